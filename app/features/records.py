"""Features and feature values as records: the rules of one record (the models, and
app/features/rules.py for a value's type) and those across records (references, intervals
that must not overlap, a redefinition that stored values must still fit), for the API's
writes and the dataset's batches."""

from collections import defaultdict
from collections.abc import Container, Mapping
from datetime import date
from typing import Any

from pydantic import Field, StrictBool, model_validator
from sqlalchemy import func, update

from app.core.issues import Issue, issue, show, unknown, unknown_code, unknown_sources
from app.core.models import Confidence
from app.core.periods import today
from app.core.records import Name, Record, SourceIds, Text
from app.core.rows import Rows, found
from app.core.schemas import CheckedOn, IsoDate, JurisdictionCode, Key, Number
from app.core.stored import Stored
from app.features.models import (
    Feature,
    FeatureCategory,
    FeatureValue,
    FeatureValueSource,
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


async def write_features(rows: Rows, create: list[FeatureRecord], change: list[Any]) -> None:
    """Insert `create`, update the stored features of the (stored, new) pairs in `change`."""

    def row(r: FeatureRecord) -> dict[str, Any]:
        return r.model_dump(mode="json")

    await rows.insert_named("feature", Feature, Feature.key, [row(r) for r in create])
    for _, r in change:
        await rows.update(Feature, Feature.key, r.key, row(r) | {"updated_at": func.now()})


async def write_feature_values(
    rows: Rows, create: list[FeatureValueRecord], change: list[Any]
) -> None:
    """Insert `create`, update the (stored, new) pairs in `change` (intervals being closed
    first), with their source links."""
    if not create and not change:
        return
    jurisdictions, features = rows.ids["jurisdiction"], rows.ids["feature"]

    def row(r: FeatureValueRecord) -> dict[str, Any]:
        return {
            "jurisdiction_id": jurisdictions[r.jurisdiction_code],
            "feature_id": features[r.feature_key],
            "value": r.value,
            "valid_from": r.valid_from,
            "valid_to": r.valid_to,
            "note": r.note,
            "confidence": r.confidence,
            "checked_on": r.checked_on,
        }

    # Changed rows first, so an interval being closed frees the range a new one takes.
    links: list[tuple[int, list[str]]] = []
    for before, r in sorted(change, key=lambda pair: pair[1].valid_to is None):
        values = row(r)
        row_id = await rows.session.scalar(
            update(FeatureValue)
            .where(
                FeatureValue.jurisdiction_id == values["jurisdiction_id"],
                FeatureValue.feature_id == values["feature_id"],
                FeatureValue.valid_from == r.valid_from,
            )
            .values(**values)
            .returning(FeatureValue.id)
        )
        if before.source_ids != r.source_ids:  # closing an interval keeps its sources
            links.append((found(row_id), r.source_ids))
        else:
            found(row_id)
    replaced = len(links)
    created = await rows.insert(FeatureValue, [row(r) for r in create], FeatureValue.id)
    links += [(row_id, r.source_ids) for (row_id,), r in zip(created, create, strict=True)]
    await rows.links(FeatureValueSource, "feature_value_id", links, replaced=replaced)


def history_changes(
    actor: str,
    stored: list[FeatureValueRecord],
    create: list[FeatureValueRecord],
    change: list[Any],
) -> list[dict[str, Any]]:
    """One change record per (jurisdiction, feature) whose history changed, with the whole
    history before and after (`stored`: the stored values of the pairs written): closing one
    interval and opening the next is one change, and a mirror replays it by replacing that
    pair's history."""
    touched = {(r.jurisdiction_code, r.feature_key) for r in create}
    touched |= {(r.jurisdiction_code, r.feature_key) for _, r in change}
    updated = {fv_key(r): r for _, r in change}
    records = []
    for code, key in sorted(touched):
        before = [v for v in stored if (v.jurisdiction_code, v.feature_key) == (code, key)]
        after = [updated.get(fv_key(v), v) for v in before]
        after += [r for r in create if (r.jurisdiction_code, r.feature_key) == (code, key)]
        after.sort(key=lambda v: v.valid_from)
        records.append(
            {
                "actor": actor,
                "entity": "feature_value",
                "entity_key": f"{code}:{key}",
                "action": "create" if not before else "update",
                "before": [v.model_dump(mode="json") for v in before] or None,
                "after": [v.model_dump(mode="json") for v in after],
            }
        )
    return records


# How the records are read back (app.core.stored.read_records), by the keys a write names.
STORED_FEATURES = Stored(
    """SELECT key, name, category, value_type, unit, allowed_values, higher_is_better,
           description, inherits, reaches_special_zones FROM feature""",
    {"features": "key = ANY(CAST(:features AS text[]))"},
    "ORDER BY key",
)

# How the records are read back (app.core.stored.read_records), by the keys a write names.
STORED_FEATURE_VALUES = Stored(
    """SELECT j.code AS jurisdiction_code, f.key AS feature_key, v.value, v.valid_from,
           v.valid_to, v.note, v.confidence, v.checked_on,
           (SELECT array_agg(s.slug ORDER BY s.slug) FROM feature_value_source l
              JOIN source s ON s.id = l.source_id WHERE l.feature_value_id = v.id) AS source_ids
      FROM feature_value v JOIN jurisdiction j ON j.id = v.jurisdiction_id
      JOIN feature f ON f.id = v.feature_id""",
    {
        # Narrowed by each column first, so the (jurisdiction, feature) index applies.
        "pair_codes": """j.code = ANY(CAST(:pair_codes AS text[]))
            AND f.key = ANY(CAST(:pair_features AS text[]))
            AND (j.code, f.key) IN (SELECT * FROM unnest(CAST(:pair_codes AS text[]),
                                                        CAST(:pair_features AS text[])))""",
        "every_value_of": "f.key = ANY(CAST(:every_value_of AS text[]))",
        "everything_of": "j.code = ANY(CAST(:everything_of AS text[]))",
    },
    "ORDER BY j.code, f.key, v.valid_from",
)
