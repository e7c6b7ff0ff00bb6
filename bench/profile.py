"""Where one read's time goes, in process: pyinstrument over N requests through the real app.

    python -m bench.profile profile|compare10|compare50|scores|panel [--cache on|off] [-n 50]

Against the bench database (bench.generate), with the app built as `juriscope serve` builds
it, called through ASGI directly (no HTTP server, no network): what is left is the app's own
time. Needs pyinstrument (`pip install pyinstrument`; not a dependency of the project). The
text report goes to stdout, the HTML one to bench/out/profile-<name>.html.
"""

import argparse
import asyncio
import time

from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.core.db import Database
from bench.generate import DEFAULT_DATA_DIR, OUT_DIR, bench_database, ensure_dataset
from bench.run import ENDPOINTS, _targets


async def _profile(url: str, name: str, *, cache: bool, rounds: int, gzip: bool) -> None:
    from pyinstrument import Profiler

    from app.main import create_app

    settings = Settings(
        database_url=url,
        seed_on_start=False,
        rate_limit="100000000/minute",
        response_cache_entries=512 if cache else 0,
    )
    database = Database.connect(settings, url)
    app = create_app(settings, database=database)
    if cache:
        app.state.data_version.start(database.engine)
    path = next(t.path for t in await _targets(url) if t.name == name)
    headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://p") as client:
        for _ in range(5):
            assert (await client.get(path, headers=headers)).status_code == 200
        profiler = Profiler(interval=0.0005, async_mode="enabled")
        started = time.perf_counter()
        with profiler:
            for _ in range(rounds):
                await client.get(path, headers=headers)
        elapsed = time.perf_counter() - started
    if cache:
        await app.state.data_version.close()
    await database.dispose()
    print(f"{name} (cache {'on' if cache else 'off'}): {elapsed / rounds * 1000:.2f} ms a request")
    print(profiler.output_text(unicode=False, color=False, show_all=False))
    (OUT_DIR / f"profile-{name}.html").write_text(profiler.output_html())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("name", choices=ENDPOINTS)
    parser.add_argument("--cache", choices=("on", "off"), default="off")
    parser.add_argument("--gzip", action="store_true", help="send Accept-Encoding: gzip")
    parser.add_argument("-n", "--rounds", type=int, default=50)
    args = parser.parse_args(argv)
    with bench_database(None, DEFAULT_DATA_DIR) as url:
        ensure_dataset(url)
        asyncio.run(
            _profile(url, args.name, cache=args.cache == "on", rounds=args.rounds, gzip=args.gzip)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
