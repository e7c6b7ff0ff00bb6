"""The bundled dataset format: one record model per entity type, as in the JSON files.

These models hold every rule that one record can be checked against on its own; the rules
that need several records (references, overlapping intervals) live in `validate.py`. The
write endpoints use the same models.
"""

import math
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)

from app.core.models import Bound, Confidence
from app.core.periods import parse_period, today
from app.core.schemas import CheckedOn, IsoDate, JurisdictionCode, Key, NulFree, Number, Slug
from app.events.models import EventKind
from app.features.models import FeatureCategory, ValueType
from app.features.rules import DIRECTED_TYPES
from app.indices.models import ComponentKind, Transform
from app.jurisdictions.models import JurisdictionKind, Region, Remit
from app.metrics.models import Frequency
from app.scenarios.overrides import Override
from app.sources.models import SourceKind

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000), NulFree
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), NulFree
]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def _sorted_unique(values: list[str]) -> list[str]:
    return sorted(set(values))


# Sources of a value are a set: kept sorted so that stored and file records compare equal.
SourceIds = Annotated[
    list[Slug], Field(min_length=1, max_length=50), AfterValidator(_sorted_unique)
]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class SourceRecord(Record):
    id: Slug
    publisher: Name
    title: Text
    url: Url | None = None
    published_on: IsoDate | None = None
    accessed_on: IsoDate | None = None
    kind: SourceKind
    note: Text | None = None


class RegulatorRecord(Record):
    id: Slug
    name: Name
    acronym: Name | None = None
    url: Url | None = None
    remit: list[Remit] = Field(default_factory=list)


class JurisdictionRecord(Record):
    code: JurisdictionCode
    name: Name
    kind: JurisdictionKind
    parent_code: JurisdictionCode | None = None
    region: Region
    currency: Currency | None = None
    summary: Text | None = None
    regulators: list[RegulatorRecord] | None = Field(
        default=None,
        description="The regulators, replacing those stored; omitted (null), they are kept "
        "as they are (a CSV import of jurisdictions carries none).",
    )

    @model_validator(mode="after")
    def _not_own_parent(self) -> "JurisdictionRecord":
        if self.parent_code == self.code:
            raise ValueError("a jurisdiction cannot be its own parent")
        if self.regulators is not None:
            ids = [regulator.id for regulator in self.regulators]
            if len(set(ids)) != len(ids):
                raise ValueError("a regulator is listed twice")
            self.regulators.sort(key=lambda regulator: regulator.id)
        return self


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


class EventRecord(Record):
    id: Slug
    jurisdiction_code: JurisdictionCode
    date: IsoDate
    kind: EventKind
    title: Name
    summary: Text | None = None
    source_ids: SourceIds


class ComponentRecord(Record):
    kind: ComponentKind
    key: Key
    weight: Number = Field(ge=0, le=1000)
    transform: Transform


class IndexRecord(Record):
    key: Key
    name: Name
    description: Text | None = None
    methodology: Annotated[Text | None, BeforeValidator(lambda v: v or None)] = None
    components: list[ComponentRecord] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _components(self) -> "IndexRecord":
        keys = [(c.kind, c.key) for c in self.components]
        if len(set(keys)) != len(keys):
            raise ValueError("a component is listed twice")
        if len({c.key for c in self.components}) != len(keys):
            raise ValueError("component keys must be unique within an index")
        if not any(c.weight > 0 for c in self.components):
            raise ValueError("at least one component needs a weight above 0")
        return self


class ScenarioRecord(Record):
    id: Slug
    name: Name
    index: Key
    jurisdiction: JurisdictionCode
    overrides: list[Override] = Field(default_factory=list, max_length=200)
    weights: dict[str, Number] = Field(
        default_factory=dict,
        description="Re-weighting as in getIndexScores (renormalised); empty = the index's.",
    )
    description: Text | None = Field(
        default=None, description="What the scenario changes, and what the index cannot see."
    )
    rationale: Text | None = Field(
        default=None, description="Why: what is asked for, and by whom, citing `source_ids`."
    )
    source_ids: Annotated[list[Slug], Field(max_length=50), AfterValidator(_sorted_unique)] = Field(
        default_factory=list
    )

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == "evaluate":
            raise ValueError("'evaluate' is reserved (POST /v1/scenarios/evaluate)")
        return value


# The files of a dataset directory, in load order (references point backwards).
ENTITY_FILES: dict[str, type[Record]] = {
    "sources": SourceRecord,
    "jurisdictions": JurisdictionRecord,
    "features": FeatureRecord,
    "metrics": MetricRecord,
    "feature_values": FeatureValueRecord,
    "observations": ObservationRecord,
    "events": EventRecord,
    "indices": IndexRecord,
    "scenarios": ScenarioRecord,
}


class Dataset(BaseModel):
    """A whole or partial dataset: any subset of the entity lists."""

    model_config = ConfigDict(extra="forbid")

    sources: list[SourceRecord] = Field(default_factory=list)
    jurisdictions: list[JurisdictionRecord] = Field(default_factory=list)
    features: list[FeatureRecord] = Field(default_factory=list)
    metrics: list[MetricRecord] = Field(default_factory=list)
    feature_values: list[FeatureValueRecord] = Field(default_factory=list)
    observations: list[ObservationRecord] = Field(default_factory=list)
    events: list[EventRecord] = Field(default_factory=list)
    indices: list[IndexRecord] = Field(default_factory=list)
    scenarios: list[ScenarioRecord] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in ENTITY_FILES}


def body_model(record: type[Record], name: str, *, drop: str, doc: str) -> type[Record]:
    """A request-body model: `record`'s fields less its identifier (taken from the path).
    The full record, with every rule, is built from it before anything is stored."""
    fields: Any = {
        field_name: (info.annotation, info)
        for field_name, info in record.model_fields.items()
        if field_name != drop
    }
    model: type[Record] = create_model(name, __base__=Record, __doc__=doc, **fields)
    return model


def patch_model(record: type[Record], name: str, *, drop: str, doc: str) -> type[Record]:
    """Like body_model, with every field optional: only the fields sent are changed."""
    annotations: dict[str, Any] = {
        field_name: info.annotation
        for field_name, info in record.model_fields.items()
        if field_name != drop
    }
    fields: Any = {field_name: (kind | None, None) for field_name, kind in annotations.items()}
    model: type[Record] = create_model(name, __base__=Record, __doc__=doc, **fields)
    return model
