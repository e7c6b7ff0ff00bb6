"""Writing composite indices: how the records are read back (STORED_*), the batch
writer that the dataset's imports call in load order, and the API's writes (save_*), checked
by the rules of records.py. Flush, never commit."""

from typing import Any

from sqlalchemy import delete, func, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import service as changes_service
from app.core.db import lock_writers
from app.core.issues import raise_issues
from app.core.rows import Rows, change_rows, plan_records
from app.core.stored import Stored, read_records, read_references
from app.features.records import FeatureRecord
from app.indices.models import CompositeIndex, IndexComponent
from app.indices.records import IndexRecord, check_indices, negative_stored_values
from app.metrics.records import MetricRecord


async def write_indices(rows: Rows, create: list[IndexRecord], change: list[Any]) -> None:
    """Insert `create`, update the (stored, new) pairs in `change`; components replaced."""
    if not create and not change:
        return
    features, metrics = rows.ids["feature"], rows.ids["metric"]
    await rows.insert_named(
        "index",
        CompositeIndex,
        CompositeIndex.key,
        [r.model_dump(exclude={"components"}) for r in create],
    )
    for _, r in change:
        await rows.update(
            CompositeIndex,
            CompositeIndex.key,
            r.key,
            r.model_dump(exclude={"components"}) | {"updated_at": func.now()},
        )
    ids = rows.ids["index"]
    touched = create + [r for _, r in change]
    await rows.session.execute(
        delete(IndexComponent).where(IndexComponent.index_id.in_([ids[r.key] for r in touched]))
    )
    await rows.session.execute(
        insert(IndexComponent),
        [
            {
                "index_id": ids[r.key],
                "position": position,
                "kind": c.kind,
                "feature_id": features[c.key] if c.kind == "feature" else None,
                "metric_id": metrics[c.key] if c.kind == "metric" else None,
                "weight": c.weight,
                "transform": c.transform,
            }
            for r in touched
            for position, c in enumerate(r.components)
        ],
    )


# How the records are read back (app.core.stored.read_records), by the keys a write names.
STORED_INDICES = Stored(
    """SELECT i.key, i.name, i.description, i.methodology,
           (SELECT json_agg(json_build_object('kind', c.kind,
                     'key', coalesce(f.key, m.key), 'weight', c.weight,
                     'transform', c.transform) ORDER BY c.position)
              FROM index_component c LEFT JOIN feature f ON f.id = c.feature_id
              LEFT JOIN metric m ON m.id = c.metric_id WHERE c.index_id = i.id) AS components
      FROM composite_index i""",
    {"indices": "i.key = ANY(CAST(:indices AS text[]))"},
    "ORDER BY i.key",
)


_NEGATIVE_STORED = text(
    "SELECT DISTINCT 'metric', m.key FROM observation o JOIN metric m ON m.id = o.metric_id"
    " WHERE m.key = ANY(CAST(:metrics AS text[])) AND o.value < 0"
    " UNION SELECT DISTINCT 'feature', f.key FROM feature_value v"
    " JOIN feature f ON f.id = v.feature_id WHERE f.key = ANY(CAST(:features AS text[]))"
    " AND jsonb_typeof(v.value) = 'number' AND (v.value)::numeric < 0"
)


async def read_negative_stored(
    session: AsyncSession, indices: list[IndexRecord]
) -> set[tuple[str, str]]:
    """(kind, key) of the log_minmax components of `indices` that have negative stored values
    (what negative_stored_values needs); no statement when there are none."""
    logged = [c for i in indices for c in i.components if c.transform == "log_minmax"]
    if not logged:
        return set()
    rows = await session.execute(
        _NEGATIVE_STORED,
        {
            "metrics": [c.key for c in logged if c.kind == "metric"],
            "features": [c.key for c in logged if c.kind == "feature"],
        },
    )
    return {(kind, key) for kind, key in rows.all()}


async def save_index(session: AsyncSession, record: IndexRecord, *, actor: str) -> None:
    """Create or replace one composite index and its components, with its change record;
    ConflictError when a log_minmax component has negative stored values, ValidationFailed
    for an unknown component or a transform that cannot score it."""
    await lock_writers(session)
    stored = await read_records(session, STORED_INDICES, IndexRecord, {"indices": [record.key]})
    components = record.components
    references = await read_references(
        session,
        {
            "features": sorted({c.key for c in components if c.kind == "feature"}),
            "metrics": sorted({c.key for c in components if c.kind == "metric"}),
            "indices": [record.key],
        },
    )
    features = [FeatureRecord.model_validate_json(f) for f in references.definitions["feature"]]
    metrics = [MetricRecord.model_validate_json(m) for m in references.definitions["metric"]]
    negative_stored = await read_negative_stored(session, [record])
    raise_issues(
        [
            *negative_stored_values([record], negative_stored),
            *check_indices(
                [record],
                features={f.key: f for f in features},
                metrics={m.key for m in metrics},
                rejected=(),
            ),
        ]
    )
    planned = plan_records([record], stored, key=lambda r: r.key)
    if not planned.changed:
        return
    await write_indices(Rows(session, references.ids), planned.create, planned.change)
    await changes_service.record_changes(
        session, change_rows(actor, "index", lambda r: r.key, planned)
    )
    await session.flush()
