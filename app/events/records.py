"""An event as a record: the rules of one record (the model) and its references, for the
API's writes and the dataset's batches."""

from collections.abc import Container
from typing import Any

from sqlalchemy import update

from app.core.issues import Issue, unknown_code, unknown_sources
from app.core.records import Name, Record, SourceIds, Text
from app.core.rows import Rows, found
from app.core.schemas import IsoDate, JurisdictionCode, Slug
from app.core.stored import Stored
from app.events.models import Event, EventKind, EventSource


class EventRecord(Record):
    id: Slug
    jurisdiction_code: JurisdictionCode
    date: IsoDate
    kind: EventKind
    title: Name
    summary: Text | None = None
    source_ids: SourceIds


def check_events(
    events: list[EventRecord], *, codes: Container[str], sources: Container[str]
) -> list[Issue]:
    """References: a known jurisdiction and known sources."""
    issues: list[Issue] = []
    for number, e in enumerate(events):
        issues += unknown_code(
            "events", number, e.id, "jurisdiction_code", e.jurisdiction_code, codes
        )
        issues += unknown_sources("events", number, e.id, e.source_ids, sources)
    return issues


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
