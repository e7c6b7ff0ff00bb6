"""Writing a planned batch: each domain's writer (its `records.py`) in dependency order with
natural keys resolved to row ids, then one change record per created or updated entity."""

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes.models import Change
from app.core.rows import Ids, Rows
from app.dataset.plan import ENTITY_NAMES, Plan, entity_key
from app.dataset.schemas import Dataset
from app.events.records import write_events
from app.features.records import history_changes, write_feature_values, write_features
from app.indices.records import write_indices
from app.jurisdictions.records import write_jurisdictions
from app.metrics.records import write_metrics, write_observations
from app.scenarios.records import write_scenarios
from app.sources.records import write_sources

# Per entity, in load order (references point backwards): its domain's writer.
WRITERS: dict[str, Callable[[Rows, list[Any], list[Any]], Awaitable[None]]] = {
    "sources": write_sources,
    "jurisdictions": write_jurisdictions,
    "features": write_features,
    "metrics": write_metrics,
    "feature_values": write_feature_values,
    "observations": write_observations,
    "events": write_events,
    "indices": write_indices,
    "scenarios": write_scenarios,
}


async def write_plan(
    session: AsyncSession, plan: Plan, ids: Ids, *, on_stage: Callable[[str, int], None] | None
) -> None:
    """Each entity's creates and changes, by its domain's writer, in load order."""
    rows = Rows(session, ids)
    for entity, (create, change, _) in plan.items():
        if on_stage is not None:
            on_stage(entity, len(create) + len(change))
        await WRITERS[entity](rows, create, change)


async def write_changes(session: AsyncSession, plan: Plan, stored: Dataset, *, actor: str) -> None:
    """One change record per created or updated entity (per feature-value history)."""
    changes = [
        {
            "actor": actor,
            "entity": ENTITY_NAMES[entity],
            "entity_key": entity_key(entity, new),
            "action": "create" if before is None else "update",
            "before": None if before is None else before.model_dump(mode="json"),
            "after": new.model_dump(mode="json"),
        }
        for entity, (create, change, _) in plan.items()
        if entity != "feature_values"
        for before, new in [*change, *[(None, r) for r in create]]
    ]
    changes += history_changes(actor, stored.feature_values, *plan["feature_values"][:2])
    for chunk in range(0, len(changes), 1000):
        await session.execute(insert(Change), changes[chunk : chunk + 1000])
