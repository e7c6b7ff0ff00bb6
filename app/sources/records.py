"""A source as a record: its rules on its own (the API's writes and the dataset's batches)."""

from typing import Any

from sqlalchemy import func

from app.core.records import Name, Record, Text, Url
from app.core.rows import Rows
from app.core.schemas import IsoDate, Slug
from app.core.stored import Stored
from app.sources.models import Source, SourceKind


class SourceRecord(Record):
    id: Slug
    publisher: Name
    title: Text
    url: Url | None = None
    published_on: IsoDate | None = None
    accessed_on: IsoDate | None = None
    kind: SourceKind
    note: Text | None = None


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
