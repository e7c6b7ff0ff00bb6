"""Imports at scale: feature values and observations streamed into staging tables by COPY,
then checked and upserted set-wise in SQL, in the caller's transaction.

The rules are those of every other write. Each record passes its record model
(app/features/records.py, app/metrics/records.py) and, for a feature value, its feature's
typing rule (app/features/rules.check_value) as it streams past; the rules across records
(duplicates, references, bilateral metrics, overlapping intervals, log_minmax domains) run in
SQL over the staged and the stored rows, in the words of the domains' own rules
(app/core/issues.py and each domain's records.py); the database's CHECK,
foreign-key and exclusion constraints are the final guard. The other entity types are small
and go through the loader as in any import. All or nothing: every issue is reported at once
(DatasetInvalid) before anything is written.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeGuard

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import lock_writers
from app.core.issues import Issue, duplicate, unknown
from app.dataset import bulk_sql as sql
from app.dataset import loader
from app.dataset.io import DatasetInvalid, validate_record, validate_records
from app.dataset.schemas import ENTITY_FILES, Dataset
from app.dataset.stream import DirectorySource, RecordSource
from app.dataset.validate import FILES, Known, validate_dataset
from app.features.records import FeatureValueRecord, feature_options, overlap
from app.features.rules import check_value
from app.indices.records import log_scored_targets, negative_logged
from app.metrics.records import SAME_COUNTERPART, ObservationRecord, bilateral_mismatch

BULK = ("feature_values", "observations")
# Progress stages: reading, staging two entities, checking, the loader's nine, two upserts.
STAGES = 4 + len(ENTITY_FILES) + len(BULK)
_EVERY = 50_000  # records between progress reports while streaming
# A directory whose feature values and observations take more bytes than this is imported
# in bulk (the bundled dataset's take half a megabyte).
BULK_BYTES = 8 << 20
# A request body with this many feature values and observations is imported in bulk.
BULK_RECORDS = 10_000
_FeatureTypes = dict[str, tuple[str, list[dict[str, Any]] | None]]


def _feature_value_row(n: int, r: FeatureValueRecord) -> tuple[Any, ...]:
    return (
        n,
        r.jurisdiction_code,
        r.feature_key,
        json.dumps(r.value),
        r.valid_from,
        r.valid_to,
        r.note,
        r.confidence.value,
        r.checked_on,
        r.source_ids,
    )


def _observation_row(n: int, r: ObservationRecord) -> tuple[Any, ...]:
    start, end = r.span
    return (
        n,
        r.jurisdiction_code,
        r.metric_key,
        r.period,
        start,
        end,
        r.value,
        r.counterpart_code,
        r.bound.value if r.bound else None,
        r.confidence.value,
        r.checked_on,
        r.note,
        r.source_ids,
    )


def _shown(*parts: Any) -> str:
    return "/".join(str(part) for part in parts if part is not None)


async def _driver(session: AsyncSession) -> asyncpg.Connection:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    return driver


async def _stage(
    session: AsyncSession,
    source: RecordSource,
    entity: str,
    features: _FeatureTypes,
    issues: list[Issue],
    cross: list[Issue],
    on_stage: loader.Stage | None,
) -> int:
    """COPY the records of `entity` that pass their own rules into its staging table; an issue
    per one that does not (in `issues`), and per feature value its feature's type refuses (in
    `cross`: the loader reports those with the rules across records). Returns the number of
    records read."""
    table, columns = sql.STAGING[entity]
    await session.execute(text(f"DROP TABLE IF EXISTS pg_temp.{table}"))
    await session.execute(text(f"CREATE TEMP TABLE {table} ({columns}) ON COMMIT DROP"))
    file, count = source.file(entity), 0
    stage = f"staging {entity}"

    def rows() -> Iterator[tuple[Any, ...]]:
        nonlocal count
        for number, raw in enumerate(source.raws(entity)):
            count = number + 1
            if on_stage is not None and count % _EVERY == 0:
                on_stage(stage, count)
            record, found = validate_record(entity, number, raw, file)
            if record is None:
                issues.extend(found)
            elif entity == "observations":
                yield _observation_row(number, record)
            else:
                feature = features.get(record.feature_key)
                if feature is not None:
                    try:
                        check_value(*feature, record.value)
                    except ValueError as error:
                        key = _shown(
                            record.jurisdiction_code, record.feature_key, record.valid_from
                        )
                        cross.append(_issue(entity, number, key, "value", str(error)))
                yield _feature_value_row(number, record)

    names = [c.split()[0] for c in columns.split(",")]
    driver = await _driver(session)
    await driver.copy_records_to_table(table, records=rows(), columns=names)
    await session.execute(text(f"ANALYZE {table}"))
    if on_stage is not None:
        on_stage(stage, count)
    return count


def _issue(
    entity: str, record: int | None, key: str, field: str | None, message: str, **extra: Any
) -> Issue:
    return Issue(file=FILES[entity], record=record, key=key, field=field, message=message, **extra)


async def _check(session: AsyncSession, head: Dataset, known: Known) -> list[Issue]:
    """The cross-record rules over the staged rows, the stored ones and the rest of the
    import (`head`): every problem, in record order per entity."""
    scored = log_scored_targets(head.indices, known.log_scored)
    rejected = sorted(known.rejected)
    parameters = {
        "codes": sorted({j.code for j in head.jurisdictions} | known.rejected),
        "sources": sorted({s.id for s in head.sources} | known.rejected),
        "features": sorted({f.key for f in head.features} | known.rejected),
        "metric_keys": [m.key for m in head.metrics],
        "metric_bilateral": [m.bilateral for m in head.metrics],
        "rejected": rejected,
        "logged_metrics": [key for kind, key in scored if kind == "metric"],
        "logged_features": [key for kind, key in scored if kind == "feature"],
    }
    found: dict[str, list[tuple[int, Issue]]] = {entity: [] for entity in BULK}

    async def rows(statement: str) -> list[Any]:
        return list((await session.execute(text(statement), parameters)).mappings())

    for entity in BULK:
        table, key = sql.STAGING[entity][0], sql.KEYS[entity]
        for row in await rows(sql.DUPLICATES.format(table=table, key=key)):
            issue = _issue(entity, row["n"], row["shown"], None, duplicate(row["first"]))
            found[entity].append((row["n"], issue))
        for row in await rows(sql.UNKNOWN_SOURCES.format(table=table, key=key)):
            issue = _issue(
                entity, row["n"], row["shown"], "source_ids", unknown("source", row["slug"])
            )
            found[entity].append((row["n"], issue))

    for row in await rows(sql.FEATURE_VALUE_PROBLEMS):
        shown = _shown(row["jurisdiction_code"], row["feature_key"], row["valid_from"])
        problems = []
        if row["unknown_code"]:
            problems.append(
                ("jurisdiction_code", unknown("jurisdiction", row["jurisdiction_code"]))
            )
        if row["unknown_feature"]:
            problems.append(("feature_key", unknown("feature", row["feature_key"])))
        if row["negative"]:
            target = scored[("feature", row["feature_key"])]
            problems.append(("value", negative_logged(target, row["feature_key"])))
        found["feature_values"] += [
            (row["n"], _issue("feature_values", row["n"], shown, field, message))
            for field, message in problems
        ]
    for row in await rows(sql.OVERLAPS):
        shown = _shown(row["jurisdiction_code"], row["feature_key"], row["valid_from"])
        message = overlap(row["previous_from"], row["previous_to"])
        issue = _issue("feature_values", row["blame"], shown, "valid_from", message, conflict=True)
        found["feature_values"].append((row["blame"], issue))

    for row in await rows(sql.OBSERVATION_PROBLEMS):
        code, counterpart, metric = (
            row["jurisdiction_code"],
            row["counterpart_code"],
            row["metric_key"],
        )
        shown = _shown(code, metric, row["period"], counterpart)
        problems = []
        if row["unknown_code"]:
            problems.append(("jurisdiction_code", unknown("jurisdiction", code)))
        if row["unknown_counterpart"]:
            problems.append(("counterpart_code", unknown("jurisdiction", counterpart)))
        if row["unknown_metric"]:
            problems.append(("metric_key", unknown("metric", metric)))
        elif row["bilateral"] is not None and row["bilateral"] != (counterpart is not None):
            problems.append(
                ("counterpart_code", bilateral_mismatch(metric, bilateral=row["bilateral"]))
            )
        if counterpart is not None and counterpart == code:
            problems.append(("counterpart_code", SAME_COUNTERPART))
        if row["value"] < 0 and ("metric", metric) in scored:
            problems.append(("value", negative_logged(scored[("metric", metric)], metric)))
        found["observations"] += [
            (row["n"], _issue("observations", row["n"], shown, field, message))
            for field, message in problems
        ]
    # Record order; for one record, the order the checks ran in (a stable sort).
    return [issue for entity in BULK for _, issue in sorted(found[entity], key=lambda p: p[0])]


async def _upsert(
    session: AsyncSession, entity: str, *, actor: str, dry_run: bool
) -> loader.EntityCounts:
    """Plan the staged rows against the stored ones, then (unless dry_run) record the
    changes and write rows and source links, each in one statement."""
    table = sql.STAGING[entity][0]
    plan = f"{table}_plan"
    owner, link, statement, changes = {
        "feature_values": (
            "feature_value_id",
            "feature_value_source",
            sql.FEATURE_VALUE_PLAN,
            sql.FEATURE_VALUE_CHANGES,
        ),
        "observations": (
            "observation_id",
            "observation_source",
            sql.OBSERVATION_PLAN,
            sql.OBSERVATION_CHANGES,
        ),
    }[entity]
    target = owner.removesuffix("_id")
    await session.execute(text(f"DROP TABLE IF EXISTS pg_temp.{plan}"))
    await session.execute(
        text(statement),
        {"assign": not dry_run, "sequence": f"{target}_id_seq"},
    )
    rows = await session.execute(text(sql.COUNTS.format(table=plan)))
    counts: dict[str, int] = {status: number for status, number in rows.all()}
    result = loader.EntityCounts(
        created=counts.get("create", 0),
        updated=counts.get("update", 0),
        unchanged=counts.get("same", 0),
    )
    if dry_run or not result.created + result.updated:
        return result
    await session.execute(text(changes), {"actor": actor})
    if entity == "feature_values":
        for is_open in (False, True):
            await session.execute(text(sql.UPDATE_FEATURE_VALUES), {"open": is_open})
        await session.execute(text(sql.INSERT_FEATURE_VALUES))
    else:
        await session.execute(text(sql.UPDATE_OBSERVATIONS))
        await session.execute(text(sql.INSERT_OBSERVATIONS))
    links = {"link": link, "owner": owner, "plan": plan}
    if result.updated:
        await session.execute(text(sql.DELETE_LINKS.format(**links)))
    await session.execute(text(sql.INSERT_LINKS.format(**links)))
    return result


async def import_records(
    session: AsyncSession,
    source: RecordSource,
    *,
    actor: str,
    dry_run: bool = False,
    on_stage: loader.Stage | None = None,
    prior_issues: list[Issue] | None = None,
) -> loader.ImportReport:
    """Validate and upsert the dataset of `source` (unless dry_run), its feature values and
    observations set-wise. DatasetInvalid with every issue when anything is invalid; flushes,
    never commits."""
    if not dry_run:
        await lock_writers(session)
    # Sorts and hashes over a million staged rows: in memory, for this transaction only.
    await session.execute(text("SET LOCAL work_mem = '256MB'"))
    entities = source.entities()
    per_entity: dict[str, list[Issue]] = {entity: [] for entity in ENTITY_FILES}
    positions: dict[str, list[int]] = {}
    parts: dict[str, list[Any]] = {}
    for entity in entities:
        if entity not in BULK:
            parts[entity], per_entity[entity] = validate_records(
                entity,
                list(source.raws(entity)),
                source.file(entity),
                positions.setdefault(entity, []),
            )
    head = Dataset(**parts)
    if on_stage is not None:
        on_stage("reading", sum(head.counts().values()))
    stored_types = await session.execute(
        text("SELECT key, value_type, allowed_values FROM feature")
    )
    features: _FeatureTypes = {key: (kind, options) for key, kind, options in stored_types}
    features |= {f.key: (f.value_type.value, feature_options(f)) for f in head.features}
    cross: list[Issue] = []
    for entity in BULK:
        if entity in entities:
            await _stage(session, source, entity, features, per_entity[entity], cross, on_stage)
        else:
            table, columns = sql.STAGING[entity]
            await session.execute(text(f"DROP TABLE IF EXISTS pg_temp.{table}"))
            await session.execute(text(f"CREATE TEMP TABLE {table} ({columns}) ON COMMIT DROP"))
    prior = [*(prior_issues or []), *(i for issues in per_entity.values() for i in issues)]
    known, stored, ids = await loader.known_rows(session, head)
    known.rejected = {issue.key for issue in prior if issue.key}
    if on_stage is not None:
        on_stage("checking", 0)
    issues = [
        *prior,
        *loader.renumbered(validate_dataset(head, known), positions),
        *_sorted(cross + await _check(session, head, known)),
    ]
    if issues:
        raise DatasetInvalid(issues)
    report = await loader.write_checked(
        session, head, stored, ids, actor=actor, dry_run=dry_run, on_stage=on_stage
    )
    for entity in BULK:
        if on_stage is not None:
            on_stage(f"writing {entity}", 0)
        counts = await _upsert(session, entity, actor=actor, dry_run=dry_run)
        if counts.created or counts.updated or counts.unchanged:
            report.counts[entity] = counts
    report.counts = {e: report.counts[e] for e in ENTITY_FILES if e in report.counts}
    return report


def _sorted(issues: list[Issue]) -> list[Issue]:
    order = {FILES[entity]: number for number, entity in enumerate(ENTITY_FILES)}
    return sorted(issues, key=lambda i: (order.get(i.file, 0), i.record or 0))


def is_large_payload(payload: object) -> TypeGuard[dict[str, Any]]:
    """Whether a parsed request body is a dataset to import in bulk."""
    if not isinstance(payload, dict):
        return False
    lists = [payload.get(entity) for entity in BULK]
    return sum(len(records) for records in lists if isinstance(records, list)) >= BULK_RECORDS


def is_large(path: Path) -> bool:
    """Whether `path` is a dataset directory to import in bulk."""
    return path.is_dir() and DirectorySource(path).size(*BULK) >= BULK_BYTES


async def import_directory_async(
    url: str,
    path: Path,
    *,
    actor: str,
    dry_run: bool,
    on_stage: loader.Stage | None = None,
) -> loader.ImportReport:
    """Import the dataset directory `path` in bulk, in one transaction of its own."""

    async def work(session: AsyncSession) -> loader.ImportReport:
        return await import_records(
            session, DirectorySource(path), actor=actor, dry_run=dry_run, on_stage=on_stage
        )

    result: loader.ImportReport = await loader.with_session(url, work)
    return result
