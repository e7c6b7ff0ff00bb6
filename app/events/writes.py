"""Writing events: how the records are read back (STORED_*), the batch
writer that the dataset's imports call in load order, and the API's writes (save_*), checked
by the rules of records.py. Flush, never commit."""

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import service as changes_service
from app.core.db import lock_writers
from app.core.issues import raise_issues
from app.core.rows import Rows, change_rows, found, plan_records
from app.core.stored import Stored, read_records, read_references
from app.events.models import Event, EventSource
from app.events.records import EventRecord, check_events


async def write_events(rows: Rows, create: list[EventRecord], change: list[Any]) -> None:
    """Insert `create`, update the (stored, new) pairs in `change`, with their source links."""
    if not create and not change:
        return
    jurisdictions = rows.ids["jurisdiction"]

    def row(r: EventRecord) -> dict[str, Any]:
        return {
            "slug": r.id,
            "jurisdiction_id": jurisdictions[r.jurisdiction_code],
            "event_date": r.date,
            "kind": r.kind,
            "title": r.title,
            "summary": r.summary,
        }

    links: list[tuple[int, list[str]]] = []
    for _, r in change:
        row_id = await rows.session.scalar(
            update(Event).where(Event.slug == r.id).values(**row(r)).returning(Event.id)
        )
        links.append((found(row_id), r.source_ids))
    replaced = len(links)
    created = await rows.insert(Event, [row(r) for r in create], Event.id)
    links += [(row_id, r.source_ids) for (row_id,), r in zip(created, create, strict=True)]
    await rows.links(EventSource, "event_id", links, replaced=replaced)


# How the records are read back (app.core.stored.read_records), by the keys a write names.
STORED_EVENTS = Stored(
    """SELECT e.slug AS id, j.code AS jurisdiction_code, e.event_date AS date, e.kind, e.title,
           e.summary,
           (SELECT array_agg(s.slug ORDER BY s.slug) FROM event_source l
              JOIN source s ON s.id = l.source_id WHERE l.event_id = e.id) AS source_ids
      FROM event e JOIN jurisdiction j ON j.id = e.jurisdiction_id""",
    {
        "events": "e.slug = ANY(CAST(:events AS text[]))",
        "everything_of": "j.code = ANY(CAST(:everything_of AS text[]))",
    },
    "ORDER BY e.event_date, e.slug",
)


async def save_event(session: AsyncSession, record: EventRecord, *, actor: str) -> None:
    """Create or replace one event, with its change record; ValidationFailed for an unknown
    jurisdiction or source."""
    await lock_writers(session)
    stored = await read_records(session, STORED_EVENTS, EventRecord, {"events": [record.id]})
    references = await read_references(
        session, {"codes": [record.jurisdiction_code], "sources": record.source_ids}
    )
    raise_issues(check_events([record], codes=references.jurisdictions, sources=references.sources))
    planned = plan_records([record], stored, key=lambda r: r.id)
    if not planned.changed:
        return
    await write_events(Rows(session, references.ids), planned.create, planned.change)
    await changes_service.record_changes(
        session, change_rows(actor, "event", lambda r: r.id, planned)
    )
    await session.flush()
