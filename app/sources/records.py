"""A source as a record: its rules on its own (the API's writes and the dataset's batches)."""

from app.core.records import Name, Record, Text, Url
from app.core.schemas import IsoDate, Slug
from app.sources.models import SourceKind


class SourceRecord(Record):
    id: Slug
    publisher: Name
    title: Text
    url: Url | None = None
    published_on: IsoDate | None = None
    accessed_on: IsoDate | None = None
    kind: SourceKind
    note: Text | None = None
