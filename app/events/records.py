"""An event as a record: its rules on its own."""

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
