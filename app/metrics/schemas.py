from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.core.models import Bound, Confidence
from app.core.records import body_model
from app.http.lists import Page
from app.metrics.models import Frequency
from app.metrics.records import MetricRecord, ObservationRecord


class MetricRead(BaseModel):
    """A market metric observed over time (talent, capital, volume, licensed firms...)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "licensed_vasp_count",
                    "name": "Licensed virtual-asset service providers",
                    "unit": "count",
                    "description": "Platforms licensed by the main regulator.",
                    "higher_is_better": True,
                    "frequency": "irregular",
                    "bilateral": False,
                }
            ]
        }
    )

    key: str
    name: str
    unit: str | None
    description: str | None
    higher_is_better: bool | None
    frequency: Frequency
    bilateral: bool = Field(
        description="Observations have a counterpart jurisdiction (e.g. a flow HK -> SG)."
    )


class MetricList(Page[MetricRead]):
    """A page of metric definitions, ordered by key."""


class ObservationRead(BaseModel):
    """One observation of a metric for a jurisdiction (and counterpart) over a period."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "jurisdiction_code": "HK",
                    "metric_key": "licensed_vasp_count",
                    "period": "2024-12-18",
                    "period_start": "2024-12-18",
                    "period_end": "2024-12-18",
                    "value": 7.0,
                    "bound": None,
                    "counterpart_code": None,
                    "source_ids": ["hk-sfc-2024-12-18"],
                    "confidence": "verified",
                    "checked_on": "2026-11-30",
                    "note": None,
                }
            ]
        }
    )

    jurisdiction_code: str
    metric_key: str
    period: str = Field(description="`2024`, `2024-Q3`, `2024-06` or `2024-06-30`.")
    period_start: date
    period_end: date
    value: float
    bound: Bound | None = Field(
        description="Null for a point value; otherwise the source gives only a bound: `lt` "
        "(the true value is below `value`), `le`, `gt` (above), `ge`. Bounds are never scored."
    )
    counterpart_code: str | None
    source_ids: list[str]
    confidence: Confidence
    checked_on: date = Field(description="When the value was last checked against its sources.")
    note: str | None


OBSERVATION_CSV = (
    "jurisdiction_code",
    "metric_key",
    "counterpart_code",
    "period",
    "period_start",
    "period_end",
    "value",
    "bound",
    "confidence",
    "checked_on",
    "source_ids",
    "note",
)


class ObservationList(Page[ObservationRead]):
    """A page of observations, ordered by jurisdiction, metric, counterpart and period."""


MetricWrite = body_model(
    MetricRecord,
    "MetricWrite",
    drop="key",
    doc="A metric definition to create or replace (the key is in the path).",
)
ObservationWrite = body_model(
    ObservationRecord,
    "ObservationWrite",
    drop="metric_key",
    doc="One observation of the metric in the path.",
)


class ObservationBatch(BaseModel):
    """Observations to upsert, by (jurisdiction, period, counterpart)."""

    model_config = ConfigDict(extra="forbid")

    observations: list[ObservationWrite] = Field(  # type: ignore[valid-type]
        min_length=1, max_length=10_000
    )


class BatchResult(BaseModel):
    """What a batch upsert did."""

    created: int
    updated: int
    unchanged: int
