"""Writing a source: how the records are read back (STORED_*), the batch
writer that the dataset's imports call in load order, and the API's writes (save_*), checked
by the rules of records.py. Flush, never commit."""

from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import service as changes_service
from app.core.db import lock_writers
from app.core.rows import Rows, change_rows, plan_records
from app.core.stored import Stored, read_records
from app.sources.models import Source
from app.sources.records import SourceRecord


async def write_sources(rows: Rows, create: list[SourceRecord], change: list[Any]) -> None:
    """Insert `create`, update the stored sources of the (stored, new) pairs in `change`."""

    def row(r: SourceRecord) -> dict[str, Any]:
        return {"slug": r.id, **r.model_dump(exclude={"id"})}

    await rows.insert_named("source", Source, Source.slug, [row(r) for r in create])
    for _, r in change:
        await rows.update(Source, Source.slug, r.id, row(r) | {"updated_at": func.now()})


# How the records are read back (app.core.stored.read_records), by the keys a write names.
STORED_SOURCES = Stored(
    """SELECT slug AS id, publisher, title, url, published_on, accessed_on, kind, note
         FROM source""",
    {"sources": "slug = ANY(CAST(:sources AS text[]))"},
    "ORDER BY slug",
)


async def save_source(session: AsyncSession, record: SourceRecord, *, actor: str) -> None:
    """Create or replace one source, with its change record (nothing when it is stored so)."""
    await lock_writers(session)
    stored = await read_records(session, STORED_SOURCES, SourceRecord, {"sources": [record.id]})
    planned = plan_records([record], stored, key=lambda r: r.id)
    if not planned.changed:
        return
    await write_sources(Rows(session, {"source": {}}), planned.create, planned.change)
    await changes_service.record_changes(
        session, change_rows(actor, "source", lambda r: r.id, planned)
    )
    await session.flush()
