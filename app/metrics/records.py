"""Metrics and observations as records: the rules of one record (the models) and those
across records (references, bilateral metrics), for the API's writes and the dataset's
batches."""

import math
from collections.abc import Container, Mapping
from datetime import date
from typing import Any

from pydantic import Field, StrictBool, field_validator

from app.core.issues import Issue, issue, show, unknown, unknown_code, unknown_sources
from app.core.models import Bound, Confidence
from app.core.periods import parse_period, today
from app.core.records import Name, Record, SourceIds, Text
from app.core.schemas import CheckedOn, JurisdictionCode, Key, Number
from app.metrics.models import Frequency


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
