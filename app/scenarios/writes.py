"""Writing saved scenarios: how the records are read back (STORED_*), the batch
writer that the dataset's imports call in load order, and the API's writes (save_*), checked
by the rules of records.py. Flush, never commit."""

from typing import Any

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import service as changes_service
from app.core.db import lock_writers
from app.core.issues import raise_issues
from app.core.rows import Rows, change_rows, found, plan_records
from app.core.stored import Stored, read_records, read_references
from app.features.records import FeatureRecord
from app.indices.records import IndexRecord
from app.indices.writes import STORED_INDICES
from app.metrics.records import MetricRecord
from app.scenarios.models import Scenario, ScenarioSource
from app.scenarios.records import ScenarioRecord, check_scenarios


async def write_scenarios(rows: Rows, create: list[ScenarioRecord], change: list[Any]) -> None:
    """Insert `create`, update the (stored, new) pairs in `change`, with their source links."""
    if not create and not change:
        return
    jurisdictions, indices = rows.ids["jurisdiction"], rows.ids["index"]

    def row(r: ScenarioRecord) -> dict[str, Any]:
        data = r.model_dump(mode="json", exclude={"id", "index", "jurisdiction", "source_ids"})
        return {
            "slug": r.id,
            "index_id": indices[r.index],
            "jurisdiction_id": jurisdictions[r.jurisdiction],
            **data,
        }

    links: list[tuple[int, list[str]]] = []
    for _, r in change:
        row_id = await rows.session.scalar(
            update(Scenario)
            .where(Scenario.slug == r.id)
            .values(**row(r), updated_at=func.now())
            .returning(Scenario.id)
        )
        links.append((found(row_id), r.source_ids))
    replaced = len(links)
    created = await rows.insert(Scenario, [row(r) for r in create], Scenario.id)
    links += [(row_id, r.source_ids) for (row_id,), r in zip(created, create, strict=True)]
    await rows.links(ScenarioSource, "scenario_id", links, replaced=replaced)


# How the records are read back (app.core.stored.read_records), by the keys a write names.
STORED_SCENARIOS = Stored(
    """SELECT s.slug AS id, s.name, i.key AS index, j.code AS jurisdiction, s.overrides,
           s.weights, s.description, s.rationale,
           coalesce((SELECT array_agg(src.slug ORDER BY src.slug) FROM scenario_source l
              JOIN source src ON src.id = l.source_id WHERE l.scenario_id = s.id),
              '{}') AS source_ids
      FROM scenario s JOIN composite_index i ON i.id = s.index_id
      JOIN jurisdiction j ON j.id = s.jurisdiction_id""",
    {
        "scenarios": "s.slug = ANY(CAST(:scenarios AS text[]))",
        "everything_of": "j.code = ANY(CAST(:everything_of AS text[]))",
    },
    "ORDER BY s.slug",
)


async def save_scenario(session: AsyncSession, record: ScenarioRecord, *, actor: str) -> None:
    """Create or replace one saved scenario, with its change record; ValidationFailed for an
    unknown reference or overrides and weights its index refuses."""
    await lock_writers(session)
    indices = await read_records(session, STORED_INDICES, IndexRecord, {"indices": [record.index]})
    stored = await read_records(
        session, STORED_SCENARIOS, ScenarioRecord, {"scenarios": [record.id]}
    )
    overridden = sorted({override.key for override in record.overrides})
    references = await read_references(
        session,
        {
            "codes": [record.jurisdiction],
            "sources": record.source_ids,
            "features": overridden,
            "metrics": overridden,
            "indices": [record.index],
            "components_of": [record.index],
        },
    )
    features = [FeatureRecord.model_validate_json(f) for f in references.definitions["feature"]]
    metrics = [MetricRecord.model_validate_json(m) for m in references.definitions["metric"]]
    raise_issues(
        check_scenarios(
            [record],
            indices={i.key: i for i in indices},
            features={f.key: f for f in sorted(features, key=lambda f: f.key)},
            metrics={m.key: m for m in sorted(metrics, key=lambda m: m.key)},
            codes=references.jurisdictions,
            sources=references.sources,
            rejected=(),
        )
    )
    planned = plan_records([record], stored, key=lambda r: r.id)
    if not planned.changed:
        return
    await write_scenarios(Rows(session, references.ids), planned.create, planned.change)
    await changes_service.record_changes(
        session, change_rows(actor, "scenario", lambda r: r.id, planned)
    )
    await session.flush()
