"""The bundled dataset format: the entity types in load order, each file's record model (owned
by its domain, `app/<domain>/records.py`), and a whole or partial dataset."""

from pydantic import BaseModel, ConfigDict, Field

from app.core.records import Record
from app.events.records import EventRecord
from app.features.records import FeatureRecord, FeatureValueRecord
from app.indices.records import IndexRecord
from app.jurisdictions.records import JurisdictionRecord
from app.metrics.records import MetricRecord, ObservationRecord
from app.scenarios.records import ScenarioRecord
from app.sources.records import SourceRecord

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
