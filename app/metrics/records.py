"""Metrics and observations as records: the rules of one record (the models) and those
across records (references, bilateral metrics), for the API's writes and the dataset's
batches."""

import math
from collections.abc import Container, Mapping
from datetime import date
from typing import Any

from pydantic import Field, StrictBool, field_validator
from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.issues import Issue, issue, show, unknown, unknown_code, unknown_sources
from app.core.models import Bound, Confidence
from app.core.periods import parse_period, today
from app.core.records import Name, Record, SourceIds, Text
from app.core.rows import Rows, found
from app.core.schemas import CheckedOn, JurisdictionCode, Key, Number
from app.core.stored import Stored
from app.metrics.models import Frequency, Metric, Observation, ObservationSource


class MetricRecord(Record):
    key: Key
    name: Name
    unit: Name | None = None
    description: Text | None = None
    higher_is_better: StrictBool | None = None
    frequency: Frequency
    bilateral: StrictBool = False


class ObservationRecord(Record):
    jurisdiction_code: JurisdictionCode
    metric_key: Key
    period: str
    value: Number
    counterpart_code: JurisdictionCode | None = None
    bound: Bound | None = None
    source_ids: SourceIds
    confidence: Confidence
    checked_on: CheckedOn = Field(default_factory=today)
    note: Text | None = None

    @field_validator("period")
    @classmethod
    def _period(cls, period: str) -> str:
        parse_period(period)
        return period

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("value must be a finite number")
        return value

    @property
    def span(self) -> tuple[date, date]:
        return parse_period(self.period)


def obs_key(record: Any) -> tuple[str, str, str, str | None]:
    """An observation's natural key: jurisdiction, metric, period, counterpart."""
    return (record.jurisdiction_code, record.metric_key, record.period, record.counterpart_code)


def bilateral_mismatch(metric: str, *, bilateral: bool) -> str:
    if bilateral:
        return f"metric {metric!r} is bilateral: a counterpart jurisdiction is required"
    return f"metric {metric!r} is not bilateral: no counterpart"


SAME_COUNTERPART = "the counterpart must differ from the jurisdiction"


def check_metric_shapes(
    metrics: list[MetricRecord], shapes: Mapping[str, tuple[bool, bool]]
) -> list[Issue]:
    """A redefined metric must still fit its stored observations: `shapes` says, per metric
    key, whether some are stored without a counterpart and whether some with one."""
    issues = []
    for number, definition in enumerate(metrics):
        plain, paired = shapes.get(definition.key, (False, False))
        if definition.bilateral and plain or not definition.bilateral and paired:
            kind = "without" if definition.bilateral else "with"
            issues.append(
                issue(
                    "metrics",
                    number,
                    definition.key,
                    "bilateral",
                    f"observations {kind} a counterpart are stored for {definition.key!r}; "
                    "they would no longer fit",
                )
            )
    return issues


def check_observations(
    observations: list[ObservationRecord],
    *,
    metrics: Mapping[str, MetricRecord],
    codes: Container[str],
    sources: Container[str],
    rejected: Container[str],
) -> list[Issue]:
    """References (known jurisdictions, sources and metric), a counterpart exactly when the
    metric is bilateral, and never the jurisdiction itself. A metric in `rejected` failed its
    own rules in the same input and is reported already."""
    issues: list[Issue] = []
    for number, o in enumerate(observations):
        key = show(obs_key(o))
        issues += unknown_code(
            "observations", number, key, "jurisdiction_code", o.jurisdiction_code, codes
        )
        issues += unknown_code(
            "observations", number, key, "counterpart_code", o.counterpart_code, codes
        )
        issues += unknown_sources("observations", number, key, o.source_ids, sources)
        metric = metrics.get(o.metric_key)
        if metric is None and o.metric_key in rejected:
            pass
        elif metric is None:
            issues.append(
                issue("observations", number, key, "metric_key", unknown("metric", o.metric_key))
            )
        elif metric.bilateral != (o.counterpart_code is not None):
            issues.append(
                issue(
                    "observations",
                    number,
                    key,
                    "counterpart_code",
                    bilateral_mismatch(metric.key, bilateral=metric.bilateral),
                )
            )
        if o.counterpart_code is not None and o.counterpart_code == o.jurisdiction_code:
            issues.append(issue("observations", number, key, "counterpart_code", SAME_COUNTERPART))
    return issues


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

# How the records are read back (app.core.stored.read_records), by the keys a write names.
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
