"""The load benchmark: the API's hot reads beside nginx (ceiling) and raw SQL (floor).

    python -m bench.run [--database-url URL] [--duration 10] [--connections 16] [--only NAME]

Generates the dataset if needed (bench.generate), starts `juriscope serve --workers 2` on a free
port of 127.0.0.1, and for each endpoint measures the API with wrk, nginx serving the API's
exact response bytes as a static file with the same wrk settings, and the same data read with
hand-written SQL through asyncpg (a pool of N connections, N concurrent tasks). When the app
has a response cache, a second server with the cache off is measured too. Writes
bench/out/results.md and bench/out/results.json. See bench/README.md.
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NoReturn

import asyncpg
import httpx

from bench import floors, writes
from bench.generate import (
    DEFAULT_DATA_DIR,
    OUT_DIR,
    GenerateError,
    bench_database,
    ensure_dataset,
    plain_dsn,
)
from bench.load import Floor, run_http, run_sql
from bench.report import Row, environment, table, write_results
from bench.servers import StaticFile, api_server, nginx, nginx_path
from bench.synth import INDEX_KEY

ENDPOINTS = ("profile", "compare10", "compare50", "scores", "panel")
PANEL_FROM = "2015"
PANEL_LIMIT = 500
CACHE_OFF = "cache off"
# The settings of the second server: the app's per-process response cache disabled.
CACHE_OFF_SETTINGS = {"JURISCOPE_RESPONSE_CACHE_ENTRIES": "0"}


@dataclass
class Target:
    """One hot read: its API path and the SQL floor that reads the same data."""

    name: str
    path: str
    floor: Floor


def _spread(codes: list[str], count: int) -> list[str]:
    """`count` codes spread evenly over the list (parents, subdivisions and zones alike)."""
    count = min(count, len(codes))
    return [codes[i * len(codes) // count] for i in range(count)]


async def _targets(url: str) -> list[Target]:
    connection = await asyncpg.connect(plain_dsn(url), timeout=10)
    try:
        rows = await connection.fetch("SELECT code FROM jurisdiction ORDER BY id")
        metric = await connection.fetchval(
            "SELECT key FROM metric WHERE frequency = 'monthly' AND NOT bilateral "
            "ORDER BY id LIMIT 1"
        )
    finally:
        await connection.close()
    codes = [r["code"] for r in rows]
    ten, fifty, twenty = _spread(codes, 10), _spread(codes, 50), _spread(codes, 20)
    start = date(int(PANEL_FROM), 1, 1)
    return [
        Target("profile", f"/v1/jurisdictions/{codes[0]}", floors.profile(codes[0])),
        Target("compare10", f"/v1/compare?jurisdictions={','.join(ten)}", floors.compare(ten)),
        Target("compare50", f"/v1/compare?jurisdictions={','.join(fifty)}", floors.compare(fifty)),
        Target(
            "scores",
            f"/v1/indices/{INDEX_KEY}/scores?limit={PANEL_LIMIT}",
            floors.scores(INDEX_KEY),
        ),
        Target(
            "panel",
            f"/v1/metrics/{metric}/observations?jurisdictions={','.join(twenty)}"
            f"&from={PANEL_FROM}&limit={PANEL_LIMIT}",
            floors.panel(metric, twenty, start, PANEL_LIMIT),
        ),
    ]


GZIP = "gzip"
INSTRUMENTATION_OFF = "instrumentation off"
# The third server: everything as shipped but request ids, metrics and the request log.
INSTRUMENTATION_OFF_SETTINGS = {"JURISCOPE_INSTRUMENTATION": "false"}
# Which read shows what the instrumentation costs on a cache hit (issue 19).
INSTRUMENTED_READ = "compare10"
GZIP_HEADERS = {"Accept-Encoding": "gzip"}
IDENTITY_HEADERS = {"Accept-Encoding": "identity"}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent (not decoded)."""
    with httpx.stream("GET", url, timeout=30, headers=headers or IDENTITY_HEADERS) as response:
        raw = b"".join(response.iter_raw())
    return response, raw


def _prime(url: str, headers: dict[str, str], *, hits: int = 8, seconds: float = 120) -> None:
    """Until `hits` answers in a row come from the cache, each on a new connection (so every
    worker has made its entry): the warm-up then warms, rather than fills, the cache. A server
    without a cache (no X-Cache) needs nothing."""
    deadline = time.monotonic() + seconds
    streak = 0
    while streak < hits and time.monotonic() < deadline:
        response, _ = _get(url, headers)
        if "x-cache" not in response.headers:
            return
        streak = streak + 1 if response.headers["x-cache"] == "hit" else 0


def _headers(row: Row) -> dict[str, str]:
    return GZIP_HEADERS if row.cache == GZIP else IDENTITY_HEADERS


def _fetch(base: str, row: Row, static_dir: Path | None) -> StaticFile | None:
    """GET the endpoint once (as the row asks: identity or gzip); keep the body for nginx if
    it is a 200."""
    try:
        response, raw = _get(base + row.path, _headers(row))
    except httpx.HTTPError as error:
        row.skipped = f"skipped ({error.__class__.__name__}: {error})"
        return None
    row.status, row.bytes = response.status_code, len(raw)
    row.content_type = response.headers.get("content-type", "application/octet-stream")
    encoding = response.headers.get("content-encoding")
    if response.status_code != 200:
        detail = raw[:120].decode(errors="replace").replace("\n", " ").replace("|", "/")
        row.skipped = f"skipped (HTTP {response.status_code} {detail})"
        return None
    if row.cache == GZIP and encoding != "gzip":
        row.notes.append("sent without gzip")
    if encoding is None and row.content_type.startswith("application/json"):
        body = json.loads(raw)
        for name in ("items", "jurisdictions"):
            if isinstance(body, dict) and isinstance(body.get(name), list):
                row.notes.append(f"{len(body[name])} {name}")
    if static_dir is None:
        return None
    name = row.name if row.cache != GZIP else f"{row.name}-gzip"
    path = static_dir / f"{name}.body"
    path.write_bytes(raw)
    path.chmod(0o644)
    return StaticFile(name, path, row.content_type, encoding)


def _has_response_cache(base: str, rows: list[Row]) -> bool:
    """True when the app says whether it answered from its cache (`X-Cache: hit|miss`)."""
    for row in rows:
        if row.skipped is None:
            return "x-cache" in _get(base + row.path)[0].headers
    return False


def _measure(
    targets: list[Target], args: argparse.Namespace, url: str, stack: ExitStack
) -> list[Row]:
    """Start the servers and nginx on `stack`, then run every load of every endpoint: the
    server as shipped (identity, then gzip), the server without its cache, the server without
    its instrumentation (the cached compare only), nginx with the same bytes, the SQL floor."""
    static_dir = OUT_DIR / "static"
    static_dir.mkdir(parents=True, exist_ok=True)
    run = {"duration": args.duration, "connections": args.connections, "warmup": args.warmup}
    settings = CACHE_OFF_SETTINGS if args.cache == "off" else None
    base = stack.enter_context(api_server(url, OUT_DIR, settings=settings))
    print(f"API server ready at {base} (log: {OUT_DIR / 'server.log'})")
    shipped = CACHE_OFF if args.cache == "off" else "as shipped"
    rows = [Row(t.name, t.path, shipped) for t in targets]
    files = [f for row in rows if (f := _fetch(base, row, static_dir)) is not None]
    zipped: dict[str, Row] = {}
    for row in rows:
        twin = Row(row.name, row.path, GZIP)
        file = _fetch(base, twin, static_dir)
        if file is not None:
            files.append(file)
        zipped[row.name] = twin
    uncached: dict[str, Row] = {}
    bare: dict[str, Row] = {}
    servers = {shipped: base, GZIP: base}
    if args.cache == "both":
        if _has_response_cache(base, rows):
            second = stack.enter_context(
                api_server(url, OUT_DIR, settings=CACHE_OFF_SETTINGS, name="server-cache-off")
            )
            servers[CACHE_OFF] = second
            print(f"the app caches responses: a second server without the cache at {second}")
            for row in rows:
                twin = Row(row.name, row.path, CACHE_OFF)
                _fetch(second, twin, None)
                if twin.bytes != row.bytes:
                    twin.notes.append(f"{twin.bytes} bytes without the cache, {row.bytes} with")
                uncached[row.name] = twin
        else:
            print("the app answers without a response cache: one server")
    if any(row.name == INSTRUMENTED_READ for row in rows) and args.instrumentation:
        third = stack.enter_context(
            api_server(url, OUT_DIR, settings=INSTRUMENTATION_OFF_SETTINGS, name="server-bare")
        )
        servers[INSTRUMENTATION_OFF] = third
        print(f"a third server without request ids, metrics and request log at {third}")
        twin = Row(INSTRUMENTED_READ, next(r.path for r in rows if r.name == INSTRUMENTED_READ))
        twin.cache = INSTRUMENTATION_OFF
        _fetch(third, twin, None)
        bare[INSTRUMENTED_READ] = twin
    nginx_base: str | None = None
    if files and nginx_path():
        nginx_base = stack.enter_context(nginx(OUT_DIR, files))
        print(f"nginx ready at {nginx_base}")
    elif files:
        print("nginx is not installed: no static-file reference", file=sys.stderr)
    measured: list[Row] = []
    for row, target in zip(rows, targets, strict=True):
        family = [row, zipped[row.name], uncached.get(row.name), bare.get(row.name)]
        print(f"{row.name}: {row.skipped or f'{row.bytes:,} bytes'}")
        print("  SQL floor")
        sql = run_sql(
            plain_dsn(url), target.floor, duration=args.duration, connections=args.connections
        )
        for each in family:
            if each is None:
                continue
            each.sql = sql
            if each.skipped is None:
                print(f"  API   {each.cache}: GET {each.path}")
                _prime(servers[each.cache] + each.path, _headers(each))
                each.api = run_http(servers[each.cache] + each.path, headers=_headers(each), **run)
            if each.cache in (shipped, GZIP) and nginx_base and each.skipped is None:
                name = row.name if each.cache != GZIP else f"{row.name}-gzip"
                print(f"  nginx (the same bytes, static{', gzip' if each.cache == GZIP else ''})")
                each.nginx = run_http(f"{nginx_base}/{name}", headers=_headers(each), **run)
        for each in family:
            if each is None:
                continue
            if each.cache in (CACHE_OFF, INSTRUMENTATION_OFF):
                each.nginx = row.nginx
            for result in (each.api, each.nginx, each.sql):
                if result is not None and (result.errors or result.notes):
                    each.notes.extend(result.notes or [f"{result.tool}: {result.errors} errors"])
            measured.append(each)
    return measured


def _terminate(signum: int, frame: object) -> NoReturn:
    # SIGTERM becomes SystemExit, so that the `finally` blocks stop the server and nginx.
    raise SystemExit(128 + signum)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--database-url", help="PostgreSQL URL (default: the embedded server)")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="embedded server's data directory"
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--scale", type=float, default=1.0, help="dataset scale, if generated")
    parser.add_argument(
        "--cache",
        choices=("both", "on", "off"),
        default="both",
        help="the app's response cache: as shipped (on), off, or both when it has one",
    )
    parser.add_argument(
        "--warmup", type=float, default=2, help="seconds of unmeasured load before each run"
    )
    parser.add_argument(
        "--no-instrumentation-row",
        dest="instrumentation",
        action="store_false",
        help=f"skip the third server ({INSTRUMENTED_READ} without request ids and metrics)",
    )
    parser.add_argument(
        "--no-writes",
        dest="writes",
        action="store_false",
        help="skip the single-write measurements of bench.writes",
    )
    parser.add_argument(
        "--only", help=f"comma-separated endpoints among {', '.join(ENDPOINTS)} (default: all)"
    )
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else ENDPOINTS
    args.only = [n.strip() for n in names if n.strip()]
    unknown = [n for n in args.only if n not in ENDPOINTS]
    if unknown or not args.only:
        parser.error(f"--only takes endpoints among {', '.join(ENDPOINTS)}")
    if not 1 <= args.duration <= 600 or not 1 <= args.connections <= 1000:
        parser.error("--duration must be 1-600 s and --connections 1-1000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _terminate)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        with bench_database(args.database_url, args.data_dir) as url:
            summary = ensure_dataset(url, scale=args.scale)
            state = "generated" if summary.generated else "reused"
            print(
                f"dataset {state}: {summary.counts['observation']:,} observations ({summary.size})"
            )
            targets = [t for t in asyncio.run(_targets(url)) if t.name in args.only]
            load = os.getloadavg()
            if load[0] > 0.5 * (os.cpu_count() or 1):
                print(f"warning: the machine is busy (load average {load[0]:.1f})", file=sys.stderr)
            with ExitStack() as stack:
                rows = _measure(targets, args, url, stack)
            written: list[str] = []
            if args.writes:
                print("writes (bench.writes): the bundled and the benchmark scale")
                written = [writes.heading(), "", *writes.table(writes.measure(url))]
            env = environment(
                url,
                duration=args.duration,
                connections=args.connections,
                summary=summary,
                load=load,
            )
    except KeyboardInterrupt:
        print("\ninterrupted; the server and nginx are stopped", file=sys.stderr)
        return 130
    except (GenerateError, RuntimeError, OSError, asyncpg.PostgresError) as error:
        print(f"bench.run: error: {error}", file=sys.stderr)
        return 1
    write_results(rows, env, OUT_DIR, writes=written)
    print("", *table(rows), "", *written, "", sep="\n")
    elapsed = time.perf_counter() - started
    print(f"wrote {OUT_DIR / 'results.md'} and results.json ({elapsed:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
