from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.core.models import Bound, Confidence
from app.core.schemas import Scalar, ScoreOrNull
from app.features.models import FeatureCategory, ValueType


class JurisdictionRef(BaseModel):
    code: str = Field(examples=["HK"])
    name: str = Field(examples=["Hong Kong"])


class FeatureCell(BaseModel):
    """One jurisdiction's value of a feature in force on `as_of`."""

    value: Scalar = Field(description="Typed by the feature's `value_type`.")
    score: ScoreOrNull = Field(
        description="0-1: enum table score, boolean by direction, or min-max across the "
        "compared set for numbers; null for dates and texts."
    )
    valid_from: date
    valid_to: date | None
    inherited_from: str | None = Field(
        default=None,
        description="The ancestor whose value this is (e.g. EU for a member state under "
        "MiCA); null when the value is the jurisdiction's own.",
        examples=[None],
    )
    confidence: Confidence = Field(description="An `unverified` value is shown, never scored.")
    checked_on: date = Field(description="When the value was last checked against its sources.")
    source_ids: list[str]
    note: str | None = None


class FeatureRow(BaseModel):
    key: str
    name: str
    category: FeatureCategory
    value_type: ValueType
    unit: str | None
    higher_is_better: bool | None
    values: dict[str, FeatureCell | None] = Field(
        description="By jurisdiction code; null where no value is in force (never a default)."
    )
    leaders: list[str] = Field(
        description="Codes with the best score; empty when nothing can be ranked."
    )
    differs: bool = Field(
        description="The compared jurisdictions do not all have the same "
        "value (a missing value counts as different)."
    )


class MetricCell(BaseModel):
    """The latest observation at or before `as_of`."""

    value: float
    period: str
    bound: Bound | None = Field(
        description="Null for a point value; `lt`, `le`, `gt` or `ge` when the source gives "
        "only a bound. Bounds and `unverified` figures never lead."
    )
    confidence: Confidence
    checked_on: date
    source_ids: list[str]
    note: str | None = None


class MetricRow(BaseModel):
    key: str
    name: str
    unit: str | None
    higher_is_better: bool | None
    values: dict[str, MetricCell | None]
    leaders: list[str]


class SourceRef(BaseModel):
    id: str
    publisher: str
    title: str
    url: str | None


class Comparison(BaseModel):
    """Jurisdictions side by side: features in force and latest metrics, with sources."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2025-01-01",
                    "jurisdictions": [
                        {"code": "HK", "name": "Hong Kong"},
                        {"code": "SG", "name": "Singapore"},
                    ],
                    "features": [
                        {
                            "key": "retail_trading_allowed",
                            "name": "Retail trading allowed",
                            "category": "market_access",
                            "value_type": "boolean",
                            "unit": None,
                            "higher_is_better": True,
                            "values": {
                                "HK": {
                                    "value": True,
                                    "score": 1.0,
                                    "valid_from": "2023-06-01",
                                    "valid_to": None,
                                    "confidence": "verified",
                                    "checked_on": "2026-11-30",
                                    "source_ids": ["hk-ifec-vatp-regime"],
                                    "note": None,
                                },
                                "SG": None,
                            },
                            "leaders": ["HK"],
                            "differs": True,
                        }
                    ],
                    "metrics": [],
                    "sources": [
                        {
                            "id": "hk-ifec-vatp-regime",
                            "publisher": "IFEC",
                            "title": "New VATP regime",
                            "url": "https://www.ifec.org.hk",
                        }
                    ],
                }
            ]
        }
    )

    as_of: date
    jurisdictions: list[JurisdictionRef]
    features: list[FeatureRow]
    metrics: list[MetricRow]
    sources: list[SourceRef]
