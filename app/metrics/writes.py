"""Writing metrics and observations: how the records are read back (STORED_*), the batch
writer that the dataset's imports call in load order, and the API's writes (save_*), checked
by the rules of records.py. Flush, never commit."""

from typing import Any

from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import service as changes_service
from app.core.db import lock_writers
from app.core.issues import duplicates, raise_issues, show
from app.core.rows import Planned, Rows, change_rows, found, plan_records
from app.core.stored import Stored, read_records, read_references
from app.indices.records import log_scored_targets, negative_values
from app.metrics.models import Metric, Observation, ObservationSource
from app.metrics.records import (
    MetricRecord,
    ObservationRecord,
    check_metric_shapes,
    check_observations,
    obs_key,
)

_UPDATE_OBSERVATIONS = text(
    """
    UPDATE observation o
       SET value = v.value, period_start = v.period_start, period_end = v.period_end,
           bound = v.bound, confidence = v.confidence, checked_on = v.checked_on,
           note = v.note
      FROM unnest(CAST(:jurisdiction_id AS int[]), CAST(:metric_id AS int[]),
                  CAST(:period AS text[]), CAST(:counterpart_id AS int[]),
                  CAST(:value AS float8[]), CAST(:period_start AS date[]),
                  CAST(:period_end AS date[]), CAST(:bound AS text[]),
                  CAST(:confidence AS text[]), CAST(:checked_on AS date[]),
                  CAST(:note AS text[]))
           AS v(jurisdiction_id, metric_id, period, counterpart_id, value, period_start,
                period_end, bound, confidence, checked_on, note)
     WHERE o.jurisdiction_id = v.jurisdiction_id AND o.metric_id = v.metric_id
       AND o.period = v.period AND o.counterpart_id IS NOT DISTINCT FROM v.counterpart_id
    RETURNING o.id, o.jurisdiction_id, o.metric_id, o.period, o.counterpart_id
    """
)


# The natural key of an observation row, then the columns an update sets.
_OBSERVATION_KEY = ("jurisdiction_id", "metric_id", "period", "counterpart_id")
_OBSERVATION_SET = (
    *_OBSERVATION_KEY,
    *("value", "period_start", "period_end", "bound", "confidence", "checked_on", "note"),
)


async def write_metrics(rows: Rows, create: list[MetricRecord], change: list[Any]) -> None:
    """Insert `create`, update the stored metrics of the (stored, new) pairs in `change`."""
    await rows.insert_named("metric", Metric, Metric.key, [r.model_dump() for r in create])
    for _, r in change:
        await rows.update(Metric, Metric.key, r.key, r.model_dump() | {"updated_at": func.now()})


async def write_observations(
    rows: Rows, create: list[ObservationRecord], change: list[Any]
) -> None:
    """Insert `create`, update the (stored, new) pairs in `change`, in chunks, with their
    source links."""
    if not create and not change:
        return
    jurisdictions, metrics = rows.ids["jurisdiction"], rows.ids["metric"]

    def row(r: ObservationRecord) -> dict[str, Any]:
        start, end = r.span
        return {
            "jurisdiction_id": jurisdictions[r.jurisdiction_code],
            "metric_id": metrics[r.metric_key],
            "period": r.period,
            "period_start": start,
            "period_end": end,
            "value": r.value,
            "counterpart_id": jurisdictions.get(r.counterpart_code) if r.counterpart_code else None,
            "bound": r.bound,
            "confidence": r.confidence,
            "checked_on": r.checked_on,
            "note": r.note,
        }

    links: list[tuple[int, list[str]]] = []
    for chunk in range(0, len(change), 5000):
        part = [r for _, r in change[chunk : chunk + 5000]]
        links += await _update_observations(rows, [row(r) for r in part], part)
    replaced = len(links)
    for chunk in range(0, len(create), 5000):
        part = create[chunk : chunk + 5000]
        created = await rows.insert(Observation, [row(r) for r in part], Observation.id)
        links += [(row_id, r.source_ids) for (row_id,), r in zip(created, part, strict=True)]
    await rows.links(ObservationSource, "observation_id", links, replaced=replaced)


async def _update_observations(
    rows: Rows, values: list[dict[str, Any]], records: list[ObservationRecord]
) -> list[tuple[int, list[str]]]:
    """Update stored observations in one statement; their ids with the new source ids."""
    result = await rows.session.execute(
        _UPDATE_OBSERVATIONS, {name: [row[name] for row in values] for name in _OBSERVATION_SET}
    )
    updated = {(j, m, p, c): row_id for row_id, j, m, p, c in result.all()}
    return [
        (found(updated.get(tuple(row[name] for name in _OBSERVATION_KEY))), record.source_ids)
        for row, record in zip(values, records, strict=True)
    ]


# How the records are read back (app.core.stored.read_records), by the keys a write names.
STORED_METRICS = Stored(
    """SELECT key, name, unit, description, higher_is_better, frequency, bilateral
         FROM metric""",
    {"metrics": "key = ANY(CAST(:metrics AS text[]))"},
    "ORDER BY key",
)

STORED_OBSERVATIONS = Stored(
    """SELECT j.code AS jurisdiction_code, m.key AS metric_key, o.period, o.value,
           c.code AS counterpart_code, o.bound, o.confidence, o.checked_on, o.note,
           (SELECT array_agg(s.slug ORDER BY s.slug) FROM observation_source l
              JOIN source s ON s.id = l.source_id WHERE l.observation_id = o.id) AS source_ids
      FROM observation o JOIN jurisdiction j ON j.id = o.jurisdiction_id
      JOIN metric m ON m.id = o.metric_id
      LEFT JOIN jurisdiction c ON c.id = o.counterpart_id""",
    {
        "series_codes": """j.code = ANY(CAST(:series_codes AS text[]))
            AND m.key = ANY(CAST(:series_metrics AS text[]))
            AND (j.code, m.key) IN (SELECT * FROM unnest(CAST(:series_codes AS text[]),
                                                        CAST(:series_metrics AS text[])))""",
        "everything_of": "j.code = ANY(CAST(:everything_of AS text[]))",
    },
    "ORDER BY j.code, m.key, o.period_start, o.period, c.code NULLS FIRST",
)


async def read_observation_shapes(
    session: AsyncSession, keys: list[str]
) -> dict[str, tuple[bool, bool]]:
    """Per metric key: whether observations without a counterpart are stored, and whether
    some with one (what check_metric_shapes needs)."""
    rows = await session.execute(
        text(
            "SELECT m.key, bool_or(o.counterpart_id IS NULL),"
            " bool_or(o.counterpart_id IS NOT NULL) FROM observation o"
            " JOIN metric m ON m.id = o.metric_id"
            " WHERE m.key = ANY(CAST(:keys AS text[])) GROUP BY m.key"
        ),
        {"keys": keys},
    )
    return {key: (bool(plain), bool(paired)) for key, plain, paired in rows.all()}


async def save_metric(session: AsyncSession, record: MetricRecord, *, actor: str) -> None:
    """Create or replace one metric definition, with its change record; ValidationFailed when
    its stored observations would no longer fit it (bilateral or not)."""
    await lock_writers(session)
    references = await read_references(session, {"metrics": [record.key]})
    stored = [MetricRecord.model_validate_json(m) for m in references.definitions["metric"]]
    shapes = await read_observation_shapes(session, [record.key])
    raise_issues(check_metric_shapes([record], shapes))
    planned = plan_records([record], stored, key=lambda r: r.key)
    if not planned.changed:
        return
    await write_metrics(Rows(session, references.ids), planned.create, planned.change)
    await changes_service.record_changes(
        session, change_rows(actor, "metric", lambda r: r.key, planned)
    )
    await session.flush()


def observation_key(record: ObservationRecord) -> str:
    """An observation's key in the change feed."""
    return ":".join(str(p) for p in obs_key(record) if p is not None)


async def save_observations(
    session: AsyncSession, records: list[ObservationRecord], *, actor: str
) -> Planned[ObservationRecord]:
    """Create new observations and update changed ones, by (jurisdiction, metric, period,
    counterpart), with a change record each; all or nothing: ValidationFailed naming every
    invalid one by its number in `records` (under "observations")."""
    await lock_writers(session)
    series = sorted({(o.jurisdiction_code, o.metric_key) for o in records})
    stored = await read_records(
        session,
        STORED_OBSERVATIONS,
        ObservationRecord,
        {"series_codes": [c for c, _ in series], "series_metrics": [m for _, m in series]},
    )
    codes = {o.jurisdiction_code for o in records}
    codes |= {o.counterpart_code for o in records if o.counterpart_code}
    references = await read_references(
        session,
        {
            "codes": sorted(codes),
            "sources": sorted({s for o in records for s in o.source_ids}),
            "metrics": sorted({o.metric_key for o in records}),
        },
    )
    metrics = [MetricRecord.model_validate_json(m) for m in references.definitions["metric"]]
    written = [
        ("observations", n, o.value, ("metric", o.metric_key), show(obs_key(o)))
        for n, o in enumerate(records)
    ]
    raise_issues(
        [
            *duplicates("observations", (obs_key(o) for o in records)),
            *check_observations(
                records,
                metrics={m.key: m for m in metrics},
                codes=references.jurisdictions,
                sources=references.sources,
                rejected=(),
            ),
            *negative_values(written, log_scored_targets([], references.log_scored)),
        ],
        batch="observations",
    )
    planned = plan_records(records, stored, key=obs_key)
    if not planned.changed:
        return planned
    await write_observations(Rows(session, references.ids), planned.create, planned.change)
    await changes_service.record_changes(
        session, change_rows(actor, "observation", observation_key, planned)
    )
    await session.flush()
    return planned
