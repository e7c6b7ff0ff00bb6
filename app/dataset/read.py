"""Reading stored rows back as dataset records: the whole database for an export, or only the
rows a batch names (its scope) with what its checks need, in a few statements."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.rows import Ids
from app.core.stored import Stored, read_records, read_references
from app.dataset.plan import Scope, scope_of
from app.dataset.schemas import ENTITY_FILES, Dataset
from app.dataset.validate import Known
from app.events.writes import STORED_EVENTS
from app.features.records import FeatureRecord
from app.features.writes import STORED_FEATURE_VALUES, STORED_FEATURES
from app.indices.writes import STORED_INDICES, read_negative_stored
from app.jurisdictions.writes import STORED_JURISDICTIONS
from app.metrics.records import MetricRecord
from app.metrics.writes import STORED_METRICS, STORED_OBSERVATIONS, read_observation_shapes
from app.scenarios.writes import STORED_SCENARIOS
from app.sources.writes import STORED_SOURCES

# Per entity: how its domain reads its records back.
SQL: dict[str, Stored] = {
    "sources": STORED_SOURCES,
    "jurisdictions": STORED_JURISDICTIONS,
    "features": STORED_FEATURES,
    "metrics": STORED_METRICS,
    "feature_values": STORED_FEATURE_VALUES,
    "observations": STORED_OBSERVATIONS,
    "events": STORED_EVENTS,
    "indices": STORED_INDICES,
    "scenarios": STORED_SCENARIOS,
}


async def read_database(
    session: AsyncSession,
    entities: Sequence[str] = tuple(ENTITY_FILES),
    *,
    scope: Scope | None = None,
) -> Dataset:
    """The stored data as a dataset (what `export` writes), for the entity types asked for;
    with `scope`, only the rows it names."""
    parameters = scope.parameters() if scope is not None else None
    parts = {
        entity: await read_records(session, SQL[entity], ENTITY_FILES[entity], parameters)
        for entity in entities
    }
    return Dataset(**parts)


async def known_rows(session: AsyncSession, dataset: Dataset) -> tuple[Known, Dataset, Ids]:
    """What the checks of `dataset` need from the database, and the row ids of what it
    names: only the rows it touches (its scope), in a few statements."""
    scope = scope_of(dataset)
    # Definitions (features, metrics) come with the references below, in the same statement.
    needed = {e for e in ENTITY_FILES if getattr(dataset, e)} - {"features", "metrics"}
    if dataset.features:
        needed.add("feature_values")
    if dataset.scenarios:
        needed.add("indices")
    stored = await read_database(session, [e for e in ENTITY_FILES if e in needed], scope=scope)
    parameters = scope.parameters()
    parameters["regulators"] = sorted(
        {r.id for j in dataset.jurisdictions for r in j.regulators or []}
    )
    references = await read_references(session, parameters)
    features = [FeatureRecord.model_validate_json(f) for f in references.definitions["feature"]]
    metrics = [MetricRecord.model_validate_json(m) for m in references.definitions["metric"]]
    shapes: dict[str, tuple[bool, bool]] = {}
    if dataset.metrics:
        shapes = await read_observation_shapes(session, [m.key for m in dataset.metrics])
    stored = stored.model_copy(
        update={
            "features": sorted(features, key=lambda f: f.key),
            "metrics": sorted(metrics, key=lambda m: m.key),
        }
    )
    known = Known(
        log_scored=references.log_scored,
        negative_stored=await read_negative_stored(session, dataset.indices),
        sources=references.sources,
        jurisdictions=references.jurisdictions,
        regulators=references.regulators,
        features={f.key: f for f in stored.features},
        metrics={m.key: m for m in stored.metrics},
        indices={i.key: i for i in stored.indices},
        feature_values=stored.feature_values,
        observation_shapes=shapes,
    )
    return known, stored, references.ids
