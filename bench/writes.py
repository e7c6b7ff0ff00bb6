"""How much single writes cost at the bundled scale and at the benchmark's (`make
bench-writes`): feature-value PUT, jurisdiction PATCH, a 100-observation POST.

Each scale runs on a database of its own, made for the run and dropped after it: the bundled
dataset seeded into an empty one, and a copy of the bench database (`bench.generate`, 300
jurisdictions, 86,000 feature values, 1,000,000 observations). Writes go through the real app
in process (no HTTP server: what is compared is the write's own cost, not the transport), one
at a time, after a warm-up; the report gives medians and the benchmark/bundled ratio.
"""

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.config import Settings
from app.core.db import Database
from app.dataset import loader
from app.keys import service as keys_service
from app.main import create_app
from bench.generate import (
    DATABASE_NAME,
    DEFAULT_DATA_DIR,
    bench_database,
    ensure_dataset,
    plain_dsn,
)

ROUNDS = 30
WARM_UP = 3


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    with bench_database(args.database_url, args.data_dir) as url:
        ensure_dataset(url)
        results = measure(url)
    print(heading())
    print(*table(results), sep="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
