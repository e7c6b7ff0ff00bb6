"""Metrics and observations as records: their rules on their own."""

import math
from datetime import date

from pydantic import Field, StrictBool, field_validator

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
