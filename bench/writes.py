"""How much single writes cost at the bundled scale and at the benchmark's (`make
bench-writes`): feature-value PUT, jurisdiction PATCH, a 100-observation POST; and the import
of the whole benchmark dataset into an empty database.

Each scale runs on a database of its own, made for the run and dropped after it: the bundled
dataset seeded into an empty one, and a copy of the bench database (`bench.generate`, 300
jurisdictions, 86,000 feature values, 1,000,000 observations). Writes go through the real app
in process (no HTTP server: what is compared is the write's own cost, not the transport), one
at a time, after a warm-up; the report gives medians and the benchmark/bundled ratio.

The import: the bench database exported with `juriscope export`'s code into
bench/out/import/ (JSON; kept for the next run), then imported in bulk (app/dataset/bulk.py)
into a new, migrated database, in one transaction as `juriscope import` does. Reported: wall
time, records per second, and the CPU seconds of this process and of its database backend
(read from /proc when the server runs on this machine), since other work on the machine
slows the wall time.
"""

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.db import Database, async_url
from app.dataset import bulk, loader
from app.dataset.export import export_directory_async
from app.dataset.stream import DirectorySource
from app.keys import service as keys_service
from app.main import create_app
from bench.generate import (
    DATABASE_NAME,
    DEFAULT_DATA_DIR,
    OUT_DIR,
    bench_database,
    ensure_dataset,
    plain_dsn,
)

ROUNDS = 30
WARM_UP = 3
IMPORT_DIR = OUT_DIR / "import"


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(plain_dsn(make_url(url).set(database="postgres")))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _targets(url: str) -> dict[str, Any]:
    """A jurisdiction, a boolean feature and a plain metric of the database."""
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        return {
            "code": await connection.fetchval(
                "SELECT j.code FROM jurisdiction j WHERE j.parent_id IS NULL "
                "AND j.kind = 'country' ORDER BY (SELECT count(*) FROM feature_value v "
                "WHERE v.jurisdiction_id = j.id) DESC, j.code LIMIT 1"
            ),
            "feature": await connection.fetchval(
                "SELECT key FROM feature WHERE value_type = 'boolean' ORDER BY key LIMIT 1"
            ),
            "metric": await connection.fetchval(
                "SELECT key FROM metric WHERE NOT bilateral AND key NOT IN (SELECT m.key "
                "FROM index_component c JOIN metric m ON m.id = c.metric_id) ORDER BY key LIMIT 1"
            ),
            "source": await connection.fetchval("SELECT slug FROM source ORDER BY slug LIMIT 1"),
        }
    finally:
        await connection.close()


async def _measure(url: str) -> dict[str, list[float]]:
    settings = Settings(
        env="test",
        database_url=url,
        rate_limit="1000000/second",
        write_rate_limit="1000000/second",
        statement_timeout_ms=60_000,
    )
    database = Database.connect(settings, url)
    async with async_sessionmaker(database.engine)() as session:
        key = await keys_service.create_key(session, name="bench", scopes=["admin"], actor="bench")
        await session.commit()
    target = await _targets(url)
    headers = {"Authorization": f"Bearer {key.key}"}
    app = create_app(settings, database=database)
    writes: dict[str, Callable[[int], tuple[str, str, Any]]] = {
        "feature value PUT": lambda n: (
            "PUT",
            f"/v1/jurisdictions/{target['code']}/features/{target['feature']}",
            {
                "value": n % 2 == 0,
                "valid_from": (date(2040, 1, 1) + timedelta(days=n)).isoformat(),
                "source_ids": [target["source"]],
                "confidence": "verified",
            },
        ),
        "jurisdiction PATCH": lambda n: (
            "PATCH",
            f"/v1/jurisdictions/{target['code']}",
            {"summary": f"Benchmark write {n}."},
        ),
        "100 observations POST": lambda n: (
            "POST",
            f"/v1/metrics/{target['metric']}/observations",
            {
                "observations": [
                    {
                        "jurisdiction_code": target["code"],
                        "period": str(1800 + year),
                        "value": n + year,
                        "source_ids": [target["source"]],
                        "confidence": "verified",
                    }
                    for year in range(100)
                ]
            },
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in writes}
    # As in a server: the response cache listens, so each write waits until it has seen it.
    app.state.data_version.start(database.engine)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as client:
        for n in range(WARM_UP + ROUNDS):
            for name, write in writes.items():
                method, path, body = write(n)
                started = time.perf_counter()
                response = await client.request(method, path, json=body, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code not in (200, 201):
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")
                if n >= WARM_UP:
                    times[name].append(elapsed)
    await app.state.data_version.close()
    await database.dispose()
    return times


def measure(url: str) -> dict[str, dict[str, list[float]]]:
    """The writes' timings at both scales, `url` being the bench database's (whose server
    makes and drops the two databases of the run)."""
    bundled = make_url(url).set(database="juriscope_writes_bundled")
    benchmark = make_url(url).set(database="juriscope_writes_bench")
    bundled_url = bundled.render_as_string(hide_password=False)
    benchmark_url = benchmark.render_as_string(hide_password=False)
    asyncio.run(
        _admin(
            url,
            "DROP DATABASE IF EXISTS juriscope_writes_bundled WITH (FORCE)",
            "DROP DATABASE IF EXISTS juriscope_writes_bench WITH (FORCE)",
            "CREATE DATABASE juriscope_writes_bundled",
            f"CREATE DATABASE juriscope_writes_bench TEMPLATE {DATABASE_NAME}",
        )
    )
    try:
        from app.cli import migrate

        migrate.upgrade(bundled_url)
        migrate.upgrade(benchmark_url)
        asyncio.run(loader.seed_async(bundled_url))
        return {
            "bundled": asyncio.run(_measure(bundled_url)),
            "benchmark": asyncio.run(_measure(benchmark_url)),
        }
    finally:
        asyncio.run(
            _admin(
                url,
                "DROP DATABASE IF EXISTS juriscope_writes_bundled WITH (FORCE)",
                "DROP DATABASE IF EXISTS juriscope_writes_bench WITH (FORCE)",
            )
        )


def table(results: dict[str, dict[str, list[float]]]) -> list[str]:
    """The writes as Markdown table lines."""
    lines = [
        "| write | bundled p50 ms | benchmark p50 ms | ratio | benchmark p95 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in results["bundled"]:
        small = statistics.median(results["bundled"][name])
        large = statistics.median(results["benchmark"][name])
        p95 = sorted(results["benchmark"][name])[int(0.95 * (ROUNDS - 1))]
        lines.append(f"| {name} | {small:.1f} | {large:.1f} | {large / small:.2f} | {p95:.1f} |")
    return lines


def heading() -> str:
    return f"writes, {ROUNDS} each after {WARM_UP} warm-up, in process, {date.today()}"


def _cpu_seconds(pid: int) -> float | None:
    """User and system CPU seconds of process `pid` on this machine (None if not here)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _import(url: str, directory: Path) -> dict[str, Any]:
    """Import `directory` in bulk into the (empty) database at `url`, timed."""
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            # The import's own backend: its transaction starts here (NullPool closes the
            # connection at commit).
            pid = int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)
            server, client = _cpu_seconds(pid), time.process_time()
            started = time.perf_counter()
            report = await bulk.import_records(session, DirectorySource(directory), actor="bench")
            after = _cpu_seconds(pid)
            await session.commit()
            wall = time.perf_counter() - started
            client = time.process_time() - client
    finally:
        await engine.dispose()
    return {
        "records": sum(c.created for c in report.counts.values()),
        "observations": report.counts["observations"].created,
        "wall": wall,
        "client_cpu": client,
        "server_cpu": None if server is None or after is None else after - server,
    }


def measure_import(url: str) -> dict[str, Any]:
    """The import of the benchmark dataset (exported once into IMPORT_DIR) into an empty,
    migrated database on the bench server."""
    name = "juriscope_writes_import"
    import_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    drop = f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    asyncio.run(_admin(url, drop, f"CREATE DATABASE {name}"))
    try:
        from app.cli import migrate

        migrate.upgrade(import_url)
        if not (IMPORT_DIR / "observations.json").exists():
            IMPORT_DIR.mkdir(parents=True, exist_ok=True)
            asyncio.run(export_directory_async(url, IMPORT_DIR))
        return asyncio.run(_import(import_url, IMPORT_DIR))
    finally:
        asyncio.run(_admin(url, drop))


def import_table(imported: dict[str, Any]) -> list[str]:
    """The import as Markdown table lines."""
    server = imported["server_cpu"]
    return [
        "| import into an empty database | records | wall s | records/s "
        "| CPU s (client + server) |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| the benchmark dataset ({imported['observations']:,} observations) "
        f"| {imported['records']:,} | {imported['wall']:.1f} "
        f"| {imported['records'] / imported['wall']:,.0f} "
        f"| {imported['client_cpu']:.1f} + {'?' if server is None else f'{server:.1f}'} |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--import-only", action="store_true", help="only the import")
    args = parser.parse_args(argv)
    with bench_database(args.database_url, args.data_dir) as url:
        ensure_dataset(url)
        results = None if args.import_only else measure(url)
        imported = measure_import(url)
    if results is not None:
        print(heading())
        print(*table(results), sep="\n")
        print()
    print(*import_table(imported), sep="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
