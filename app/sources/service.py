"""Sources: reads and writes."""

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFoundError
from app.core.records import build_record
from app.sources.models import Source
from app.sources.records import SourceRecord
from app.sources.schemas import SourceRead
from app.sources.writes import save_source


class SourceNotFound(NotFoundError):
    def __init__(self, source_id: str) -> None:
        super().__init__(f"No source with id {source_id!r}.")


def _read(source: Source) -> SourceRead:
    return SourceRead(
        id=source.slug,
        publisher=source.publisher,
        title=source.title,
        url=source.url,
        published_on=source.published_on,
        accessed_on=source.accessed_on,
        kind=source.kind,
        note=source.note,
    )


async def list_sources(
    session: AsyncSession, *, kind: str | None, q: str | None, after: str | None, limit: int
) -> list[SourceRead]:
    """Sources by id, after the cursor; `limit + 1` rows."""
    stmt = select(Source).order_by(Source.slug).limit(limit + 1)
    if kind is not None:
        stmt = stmt.where(Source.kind == kind)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Source.title.ilike(pattern),
                Source.publisher.ilike(pattern),
                Source.slug.ilike(pattern),
            )
        )
    if after is not None:
        stmt = stmt.where(Source.slug > after)
    return [_read(source) for source in await session.scalars(stmt)]


async def get_source(session: AsyncSession, source_id: str) -> SourceRead:
    """One source; SourceNotFound if unknown."""
    source = await session.scalar(select(Source).where(Source.slug == source_id))
    if source is None:
        raise SourceNotFound(source_id)
    return _read(source)


async def put_source(
    session: AsyncSession, *, source_id: str, data: dict[str, Any], actor: str
) -> SourceRead:
    """Create or replace a source, with its change record; 422 when invalid."""
    record = build_record(SourceRecord, {**data, "id": source_id})
    await save_source(session, record, actor=actor)
    return await get_source(session, source_id)
