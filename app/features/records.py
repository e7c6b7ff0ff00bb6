"""Features and feature values as records: the rules of one record (the models, and
app/features/rules.py for a value's type) and those across records (references, intervals
that must not overlap, a redefinition that stored values must still fit), for the API's
writes and the dataset's batches."""

from collections import defaultdict
from collections.abc import Container, Mapping
from datetime import date
from typing import Any

from pydantic import Field, StrictBool, model_validator

from app.core.issues import Issue, issue, show, unknown, unknown_code, unknown_sources
from app.core.models import Confidence
from app.core.periods import today
from app.core.records import Name, Record, SourceIds, Text
from app.core.schemas import CheckedOn, IsoDate, JurisdictionCode, Key, Number
from app.features.models import (
    FeatureCategory,
    ValueType,
)
from app.features.rules import DIRECTED_TYPES, check_value


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


def fv_key(record: FeatureValueRecord) -> tuple[str, str, date]:
    """A feature value's natural key: jurisdiction, feature, valid_from."""
    return (record.jurisdiction_code, record.feature_key, record.valid_from)


def feature_options(feature: FeatureRecord) -> list[dict[str, Any]] | None:
    if feature.allowed_values is None:
        return None
    return [option.model_dump() for option in feature.allowed_values]


def overlap(valid_from: date, valid_to: date | None) -> str:
    return (
        f"overlaps the interval from {valid_from} to {valid_to or 'open'}; "
        "close it with valid_to first"
    )


def check_feature_values(
    values: list[FeatureValueRecord],
    *,
    features: Mapping[str, FeatureRecord],
    codes: Container[str],
    sources: Container[str],
    rejected: Container[str],
) -> list[Issue]:
    """References (a known jurisdiction, sources and feature) and each value against its
    feature's type (app.features.rules.check_value). A feature in `rejected` failed its own
    rules in the same input and is reported already."""
    issues: list[Issue] = []
    for number, v in enumerate(values):
        key = show(fv_key(v))
        issues += unknown_code(
            "feature_values", number, key, "jurisdiction_code", v.jurisdiction_code, codes
        )
        issues += unknown_sources("feature_values", number, key, v.source_ids, sources)
        feature = features.get(v.feature_key)
        if feature is None and v.feature_key in rejected:
            continue
        if feature is None:
            issues.append(
                issue(
                    "feature_values", number, key, "feature_key", unknown("feature", v.feature_key)
                )
            )
            continue
        try:
            check_value(feature.value_type, feature_options(feature), v.value)
        except ValueError as error:
            issues.append(issue("feature_values", number, key, "value", str(error)))
    return issues


def overlapping_intervals(
    values: list[FeatureValueRecord], stored: list[FeatureValueRecord]
) -> list[Issue]:
    """Intervals of one jurisdiction and feature must not overlap, stored ones included (a
    conflict, blamed on the incoming record)."""
    incoming = {fv_key(v): (n, v) for n, v in enumerate(values)}
    by_pair: dict[tuple[str, str], list[tuple[int | None, FeatureValueRecord]]] = defaultdict(list)
    for record in stored:
        if fv_key(record) not in incoming:
            by_pair[(record.jurisdiction_code, record.feature_key)].append((None, record))
    for position, record in incoming.values():
        by_pair[(record.jurisdiction_code, record.feature_key)].append((position, record))
    issues = []
    for intervals in by_pair.values():
        intervals.sort(key=lambda item: item[1].valid_from)
        for (first, before), (second, after) in zip(intervals, intervals[1:], strict=False):
            if before.valid_to is None or before.valid_to > after.valid_from:
                blame = second if second is not None else first
                issues.append(
                    issue(
                        "feature_values",
                        blame,
                        show(fv_key(after)),
                        "valid_from",
                        overlap(before.valid_from, before.valid_to),
                        conflict=True,
                    )
                )
    return issues


def stored_values_still_fit(
    features: list[FeatureRecord],
    *,
    stored_features: Mapping[str, FeatureRecord],
    stored_values: list[FeatureValueRecord],
    replaced: list[FeatureValueRecord],
) -> list[Issue]:
    """A redefined feature must still accept the values stored for it (those not `replaced`
    by the same input)."""
    redefined = {
        f.key: f
        for f in features
        if f.key in stored_features
        and (
            f.value_type != stored_features[f.key].value_type
            or f.allowed_values != stored_features[f.key].allowed_values
        )
    }
    replaced_keys = {fv_key(v) for v in replaced}
    issues = []
    for number, feature in enumerate(features):
        if feature.key not in redefined:
            continue
        for stored in stored_values:
            if stored.feature_key != feature.key or fv_key(stored) in replaced_keys:
                continue
            try:
                check_value(feature.value_type, feature_options(feature), stored.value)
            except ValueError as error:
                issues.append(
                    issue(
                        "features",
                        number,
                        feature.key,
                        "value_type",
                        f"the stored value of {stored.jurisdiction_code} from "
                        f"{stored.valid_from} no longer fits: {error}",
                    )
                )
    return issues
