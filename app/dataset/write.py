"""Writing a planned batch: each domain's writer (its `records.py`) in dependency order with
natural keys resolved to row ids, then one change record per created or updated entity."""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import service as changes_service
from app.core.rows import Ids, Planned, Rows, change_rows
from app.dataset.plan import ENTITY_NAMES, Plan, entity_key
from app.dataset.schemas import Dataset
from app.events.writes import write_events
from app.features.writes import history_changes, write_feature_values, write_features
from app.indices.writes import write_indices
from app.jurisdictions.writes import write_jurisdictions
from app.metrics.writes import write_metrics, write_observations
from app.scenarios.writes import write_scenarios
from app.sources.writes import write_sources

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
        row
        for entity, (create, change, _) in plan.items()
        if entity != "feature_values"
        for row in change_rows(
            actor,
            ENTITY_NAMES[entity],
            partial(entity_key, entity),
            Planned(create=create, change=change),
        )
    ]
    changes += history_changes(actor, stored.feature_values, *plan["feature_values"][:2])
    await changes_service.record_changes(session, changes)
