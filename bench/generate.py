"""Create (or reuse) the benchmark database and fill it with the synthetic dataset, by COPY.

    python -m bench.generate [--database-url URL] [--data-dir DIR] [--scale 1.0] [--force]

Without --database-url it starts the project's embedded PostgreSQL in --data-dir (default
bench/out/pgdata) and uses a database of its own, `juriscope_bench`. The schema comes from the
project's migrations. Everything is loaded in one transaction, so a database holds either the
whole dataset or none of it; a second run finds it and exits 0.
"""

import argparse
import asyncio
import contextlib
import json
import sys
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import URL, make_url

from bench import synth

OUT_DIR = Path(__file__).resolve().parent / "out"
DEFAULT_DATA_DIR = OUT_DIR / "pgdata"
DATABASE_NAME = "juriscope_bench"
DEFAULT_SEED = 20261125

# Load order (foreign keys first); each table gets explicit ids where it has an identity column.
TABLES = (
    "source",
    "jurisdiction",
    "regulator",
    "feature",
    "metric",
    "feature_value",
    "feature_value_source",
    "observation",
    "observation_source",
    "event",
    "event_source",
    "composite_index",
    "index_component",
    "change",
)
# Where the per-row foreign-key checks cost most of the load time.
BULK_TABLES = ("feature_value", "feature_value_source", "observation", "observation_source")
IDENTITY_TABLES = (
    "source",
    "jurisdiction",
    "regulator",
    "feature",
    "metric",
    "feature_value",
    "observation",
    "event",
    "composite_index",
)
OBSERVATION_COLUMNS = (
    "id",
    "jurisdiction_id",
    "metric_id",
    "period",
    "period_start",
    "period_end",
    "value",
    "counterpart_id",
    "confidence",
    "note",
)


class GenerateError(Exception):
    """A reason not to generate, reported as one line."""


@dataclass
class Summary:
    """What the database holds after `ensure_dataset`, and whether this run loaded it."""

    url: str
    counts: dict[str, int]
    generated: bool
    marker: dict[str, Any]
    seconds: float
    size: str


def plain_dsn(url: str | URL) -> str:
    """`url` as asyncpg/libpq spell it (no SQLAlchemy `+driver` suffix)."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def bench_database(url: str | None, data_dir: Path) -> Iterator[str]:
    """`url`, or the embedded server in `data_dir` (database `juriscope_bench`), which keeps
    running until the block ends."""
    if url:
        yield url
        return
    from app.cli.embedded import embedded_database

    with contextlib.ExitStack() as stack:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; its /tmp fallback is fine.
            warnings.simplefilter("ignore")
            embedded_url = stack.enter_context(embedded_database(data_dir.resolve(), DATABASE_NAME))
        yield embedded_url


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def _create_database(url: str, *, recreate: bool) -> None:
    target = make_url(url)
    name = target.database
    if not name:
        raise GenerateError(f"the database URL names no database: {target!r}")
    try:
        admin = await asyncpg.connect(plain_dsn(target.set(database="postgres")), timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        where = target.render_as_string(hide_password=True)
        raise GenerateError(
            f"cannot connect to the PostgreSQL server of {where}: {error}"
        ) from None
    try:
        exists = await admin.fetchval("SELECT true FROM pg_database WHERE datname = $1", name)
        if exists and recreate:
            print(f"dropping database {name} (--force)")
            await admin.execute(f"DROP DATABASE {_quoted(name)} WITH (FORCE)")
            exists = False
        if not exists:
            await admin.execute(f"CREATE DATABASE {_quoted(name)}")
    finally:
        await admin.close()


async def count_rows(connection: asyncpg.Connection) -> dict[str, int]:
    """Row counts of every table the generator fills."""
    selects = ", ".join(f"(SELECT count(*) FROM {_quoted(t)}) AS {_quoted(t)}" for t in TABLES)
    row = await connection.fetchrow(f"SELECT {selects}")
    assert row is not None
    return {table: int(row[table]) for table in TABLES}


async def _read_state(url: str) -> tuple[dict[str, Any] | None, dict[str, int], str]:
    connection = await asyncpg.connect(plain_dsn(url), timeout=10)
    try:
        marker = await connection.fetchval(
            "SELECT after FROM change WHERE entity = 'dataset' AND entity_key = 'bench' "
            "AND actor = 'bench' ORDER BY id DESC LIMIT 1"
        )
        size = await connection.fetchval(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        )
        return (json.loads(marker) if marker else None), await count_rows(connection), size
    finally:
        await connection.close()


# Every single-column foreign key of the loaded tables, from the catalog.
FOREIGN_KEYS_SQL = """
SELECT c.conname, c.conrelid::regclass::text AS child, a.attname AS column,
       c.confrelid::regclass::text AS parent, pa.attname AS parent_column
  FROM pg_constraint c
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
  JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
 WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 AND c.conrelid::regclass::text = ANY($1)
 ORDER BY 1
"""


async def _check_foreign_keys(connection: asyncpg.Connection) -> None:
    """What the skipped per-row triggers would have checked, as one anti-join per key."""
    for key in await connection.fetch(FOREIGN_KEYS_SQL, list(TABLES)):
        child, column = _quoted(key["child"]), _quoted(key["column"])
        parent, parent_column = _quoted(key["parent"]), _quoted(key["parent_column"])
        orphans = await connection.fetchval(
            f"SELECT count(*) FROM {child} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {parent} p WHERE p.{parent_column} = c.{column})"
        )
        if orphans:
            raise GenerateError(f"{orphans} rows violate {key['conname']}; nothing was loaded")


async def _load(url: str, dataset: synth.Dataset) -> list[tuple[str, int, float]]:
    """COPY every table in one transaction, move the identity sequences, VACUUM ANALYZE.

    As a superuser, the per-row foreign-key triggers of the four big tables are skipped
    during their COPY (session_replication_role = replica: 60% of the load time) unless they
    carry triggers of their own, and every foreign key is checked once, set-based, before the
    commit instead; CHECK, UNIQUE and the exclusion constraint are enforced as always.
    Without superuser rights, the triggers run.
    """
    connection = await asyncpg.connect(plain_dsn(url), timeout=10)
    timings: list[tuple[str, int, float]] = []
    try:
        superuser = await connection.fetchval("SELECT current_setting('is_superuser') = 'on'")
        with_triggers = set(
            await connection.fetchval(
                "SELECT coalesce(array_agg(DISTINCT tgrelid::regclass::text), '{}') "
                "FROM pg_trigger WHERE NOT tgisinternal"
            )
        )
        async with connection.transaction():
            for table in TABLES:
                fast = superuser and table in BULK_TABLES and table not in with_triggers
                role = "replica" if fast else "origin"
                await connection.execute(f"SET LOCAL session_replication_role = {role}")
                started = time.perf_counter()
                records: Iterable[tuple[Any, ...]]
                if table == "observation":
                    columns: tuple[str, ...] = OBSERVATION_COLUMNS
                    records = dataset.plan.observation_rows()
                    rows = dataset.plan.observation_count
                elif table == "observation_source":
                    columns = ("observation_id", "source_id")
                    records = dataset.plan.observation_source_rows()
                    rows = -1
                else:
                    names, materialised = dataset.tables[table]
                    columns, records, rows = tuple(names), materialised, len(materialised)
                status = await connection.copy_records_to_table(
                    table, records=records, columns=columns
                )
                copied = int(status.split()[-1]) if status.startswith("COPY") else rows
                timings.append((table, copied, time.perf_counter() - started))
            if superuser:
                started = time.perf_counter()
                await _check_foreign_keys(connection)
                timings.append(("foreign keys checked", 0, time.perf_counter() - started))
            for table in IDENTITY_TABLES:
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {_quoted(table)}))"
                )
        started = time.perf_counter()
        # VACUUM sets the visibility map too, so counts can use index-only scans from the start.
        await connection.execute("VACUUM (ANALYZE)", timeout=600)
        timings.append(("VACUUM (ANALYZE)", 0, time.perf_counter() - started))
    finally:
        await connection.close()
    return timings


def ensure_dataset(
    url: str, *, scale: float = 1.0, seed: int = DEFAULT_SEED, force: bool = False
) -> Summary:
    """Make sure the database at `url` holds the bench dataset: create the database if needed
    (drop it first with `force`), migrate it, and load the data unless already there."""
    started = time.perf_counter()
    asyncio.run(_create_database(url, recreate=force))
    from app.cli import migrate

    migrate.upgrade(url)
    marker, counts, size = asyncio.run(_read_state(url))
    if marker is not None:
        if float(marker.get("scale", -1)) != scale:
            print(
                f"note: the bench data was generated at scale {marker.get('scale')}, not {scale}; "
                "pass --force to regenerate it",
                file=sys.stderr,
            )
        return Summary(url, counts, False, marker, time.perf_counter() - started, size)
    if any(counts.values()):
        held = ", ".join(f"{n} {t}" for t, n in counts.items() if n)
        raise GenerateError(
            f"the database holds data but not the bench dataset ({held}); "
            "use an empty database, or --force to recreate this one"
        )
    built = time.perf_counter()
    dataset = synth.build(scale, seed, date.today())
    print(
        f"built the dataset plan in {time.perf_counter() - built:.1f} s "
        f"({dataset.plan.observation_count:,} observations in {len(dataset.plan.series):,} "
        "series); loading with COPY ..."
    )
    for table, rows, seconds in asyncio.run(_load(url, dataset)):
        print(
            f"  {table:<22} {rows:>10,} rows  {seconds:6.1f} s"
            if rows
            else f"  {table:<22} {'':>15} {seconds:6.1f} s"
        )
    marker, counts, size = asyncio.run(_read_state(url))
    return Summary(url, counts, True, marker or {}, time.perf_counter() - started, size)


def _print_summary(summary: Summary) -> None:
    verb = "generated" if summary.generated else "already holds the bench data; nothing to do"
    print(f"{summary.url}: {verb} ({summary.size})")
    for table, count in summary.counts.items():
        print(f"  {table:<22} {count:>10,}")
    print(f"done in {summary.seconds:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--database-url", help="PostgreSQL URL (default: the embedded server)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="data directory of the embedded server (default: bench/out/pgdata)",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 300 jurisdictions, 1M obs")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--force", action="store_true", help="drop and recreate the database")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    try:
        with bench_database(args.database_url, args.data_dir) as url:
            _print_summary(ensure_dataset(url, scale=args.scale, seed=args.seed, force=args.force))
    except (GenerateError, OSError, asyncpg.PostgresError) as error:
        print(f"bench.generate: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
