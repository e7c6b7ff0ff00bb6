from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.models import Confidence
from app.core.periods import today
from app.core.records import body_model
from app.core.schemas import CheckedOn, IsoDate, NulFree, Scalar
from app.features.models import FeatureCategory, ValueType
from app.features.records import FeatureRecord
from app.http.lists import Page


class AllowedValueRead(BaseModel):
    """One option of an enum feature and its 0-1 score (1 = most favourable)."""

    value: str = Field(examples=["comprehensive_licence"])
    label: str = Field(examples=["Comprehensive licensing regime"])
    score: float = Field(ge=0, le=1, examples=[1.0])


class FeatureRead(BaseModel):
    """A feature of the regulatory taxonomy: what is measured, its type and direction."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "retail_trading_allowed",
                    "name": "Retail trading allowed",
                    "category": "market_access",
                    "value_type": "boolean",
                    "unit": None,
                    "allowed_values": None,
                    "higher_is_better": True,
                    "description": "Retail investors may trade on licensed platforms.",
                    "inherits": True,
                    "reaches_special_zones": False,
                }
            ]
        }
    )

    key: str
    name: str
    category: FeatureCategory
    value_type: ValueType
    unit: str | None
    allowed_values: list[AllowedValueRead] | None
    higher_is_better: bool | None = Field(
        description="For boolean and numeric features: whether more is better. Null otherwise."
    )
    description: str | None
    inherits: bool = Field(
        default=True,
        description="Whether a jurisdiction without a value of its own inherits its nearest "
        "ancestor's (EU -> member states, US -> US-NY, AE -> AE-DU -> DIFC).",
    )
    reaches_special_zones: bool = Field(
        default=True,
        description="Whether a special zone (a financial free zone with its own law: ADGM, "
        "DIFC) inherits it too; false for what the zone's own law sets (licensing, token "
        "rules, stablecoins, conduct, data protection).",
    )


class FeatureList(Page[FeatureRead]):
    """A page of feature definitions, ordered by key."""


class FeatureValueRead(BaseModel):
    """A jurisdiction's value of a feature over its period of validity [valid_from, valid_to)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "jurisdiction_code": "HK",
                    "feature_key": "retail_trading_allowed",
                    "category": "market_access",
                    "value_type": "boolean",
                    "value": True,
                    "score": 1.0,
                    "valid_from": "2023-06-01",
                    "valid_to": None,
                    "note": None,
                    "source_ids": ["hk-ifec-vatp-regime"],
                    "confidence": "verified",
                    "checked_on": "2026-11-30",
                }
            ]
        }
    )

    jurisdiction_code: str
    feature_key: str
    category: FeatureCategory
    value_type: ValueType
    value: Scalar = Field(
        description="Typed by `value_type`: a boolean, a number (integer, number, percent) or "
        "a string (enum, text, and a date as YYYY-MM-DD)."
    )
    score: float | None = Field(
        description="0-1 score for enum and boolean values; null for others (they are scored "
        "relative to a comparison set, see /v1/compare)."
    )
    valid_from: date
    valid_to: date | None = Field(description="Exclusive end; null while still in force.")
    note: str | None
    source_ids: list[str]
    confidence: Confidence = Field(
        description="`verified` (a primary source, or two independent secondary ones), "
        "`reported` (one credible secondary source), `estimated`, `disputed` (sources "
        "disagree), or `unverified` (no source traces it to a primary: shown, never scored)."
    )
    checked_on: date = Field(description="When the value was last checked against its sources.")
    inherited_from: str | None = Field(
        default=None,
        description="The ancestor whose value this is (e.g. `EU` for a member state under "
        "MiCA, `US` for US-NY); null when the value is the jurisdiction's own. History "
        "(`history=true`) lists own values only.",
        examples=[None],
    )


VALUE_CSV = (
    "jurisdiction_code",
    "feature_key",
    "category",
    "value_type",
    "value",
    "score",
    "valid_from",
    "valid_to",
    "confidence",
    "checked_on",
    "inherited_from",
    "source_ids",
    "note",
)


class FeatureValueList(Page[FeatureValueRead]):
    """A page of feature values."""


FeatureWrite = body_model(
    FeatureRecord,
    "FeatureWrite",
    drop="key",
    doc="A feature definition to create or replace (the key is in the path).",
)


class FeatureValueWrite(BaseModel):
    """A jurisdiction's new value of a feature from `valid_from` on. The interval in force on
    that day is closed on it; history is kept, never overwritten."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "value": True,
                    "valid_from": "2026-01-01",
                    "valid_to": None,
                    "note": "Sandbox launched.",
                    "source_ids": ["hk-sfc-sandbox"],
                    "confidence": "verified",
                    "checked_on": "2026-11-30",
                }
            ]
        },
    )

    value: Scalar = Field(description="Typed by the feature's value_type.")
    valid_from: IsoDate
    valid_to: IsoDate | None = Field(
        default=None, description="Exclusive end, if already known; null = until changed."
    )
    note: Annotated[str, NulFree] | None = Field(default=None, max_length=20_000)
    source_ids: list[str] = Field(min_length=1, max_length=50)
    confidence: Confidence
    checked_on: CheckedOn = Field(default_factory=today)


class FeatureValueHistory(BaseModel):
    """One jurisdiction's value of one feature: in force today, and every interval."""

    jurisdiction_code: str
    feature_key: str
    in_force: FeatureValueRead | None = Field(description="The value in force today, if any.")
    history: list[FeatureValueRead] = Field(description="Every interval, oldest first.")
