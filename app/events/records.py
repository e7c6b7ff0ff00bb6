"""An event as a record: the rules of one record (the model) and its references, for the
API's writes and the dataset's batches."""

from collections.abc import Container

from app.core.issues import Issue, unknown_code, unknown_sources
from app.core.records import Name, Record, SourceIds, Text
from app.core.schemas import IsoDate, JurisdictionCode, Slug
from app.events.models import EventKind


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
