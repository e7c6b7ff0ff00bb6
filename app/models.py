"""Every domain's ORM models, imported in one place for Alembic and the tests."""

from app.changes.models import Change, DataVersion
from app.core.db import Base
from app.events.models import Event, EventSource
from app.features.models import Feature, FeatureValue, FeatureValueSource
from app.indices.models import CompositeIndex, IndexComponent
from app.jurisdictions.models import Jurisdiction, Regulator
from app.keys.models import ApiKey
from app.metrics.models import Metric, Observation, ObservationSource
from app.scenarios.models import Scenario, ScenarioSource
from app.sources.models import Source

__all__ = [
    "ApiKey",
    "Base",
    "Change",
    "DataVersion",
    "CompositeIndex",
    "Event",
    "EventSource",
    "Feature",
    "FeatureValue",
    "FeatureValueSource",
    "IndexComponent",
    "Jurisdiction",
    "Metric",
    "Observation",
    "ObservationSource",
    "Regulator",
    "Scenario",
    "ScenarioSource",
    "Source",
]
