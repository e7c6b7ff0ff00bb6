"""Features and feature values as records: their rules on their own."""

from typing import Any

from pydantic import Field, StrictBool, model_validator

from app.core.models import Confidence
from app.core.periods import today
from app.core.records import Name, Record, SourceIds, Text
from app.core.schemas import CheckedOn, IsoDate, JurisdictionCode, Key, Number
from app.features.models import FeatureCategory, ValueType
from app.features.rules import DIRECTED_TYPES


class AllowedValue(Record):
    value: Key
    label: Name
    score: Number = Field(ge=0, le=1)


class FeatureRecord(Record):
    key: Key
    name: Name
    category: FeatureCategory
    value_type: ValueType
    unit: Name | None = None
    allowed_values: list[AllowedValue] | None = None
    higher_is_better: StrictBool | None = None
    description: Text | None = None
    inherits: StrictBool = Field(
        default=True,
        description="Whether jurisdictions below the one holding a value inherit it (MiCA "
        "for EU member states, federal law for a state); false for flags about one "
        "jurisdiction only, such as the FATF grey list.",
    )
    reaches_special_zones: StrictBool = Field(
        default=True,
        description="Whether a special zone (a financial free zone with its own civil, "
        "commercial and financial-services law, such as ADGM or DIFC) inherits it as well: "
        "true for federal tax, AML, immigration and currency law; false for what the zone's "
        "own law sets (licensing, token rules, stablecoins, conduct, data protection).",
    )

    @model_validator(mode="after")
    def _type_rules(self) -> "FeatureRecord":
        if self.value_type == ValueType.enum:
            if not self.allowed_values:
                raise ValueError("an enum feature needs allowed_values")
            values = [option.value for option in self.allowed_values]
            if len(set(values)) != len(values):
                raise ValueError("allowed_values repeat a value")
        elif self.allowed_values is not None:
            raise ValueError("allowed_values are only for enum features")
        if self.higher_is_better is not None and self.value_type not in DIRECTED_TYPES:
            raise ValueError(
                f"higher_is_better applies to boolean and numeric features, not {self.value_type}"
            )
        return self


class FeatureValueRecord(Record):
    jurisdiction_code: JurisdictionCode
    feature_key: Key
    value: Any
    valid_from: IsoDate
    valid_to: IsoDate | None = None
    note: Text | None = None
    source_ids: SourceIds
    confidence: Confidence
    checked_on: CheckedOn = Field(default_factory=today)

    @model_validator(mode="after")
    def _interval(self) -> "FeatureValueRecord":
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from (intervals are [from, to))")
        return self
