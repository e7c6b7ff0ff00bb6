"""Timeline events: reads and writes."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, literal, select, text, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ConflictError
from app.events.models import Event, EventSource
from app.events.records import EventRecord
from app.events.schemas import EventRead
from app.events.writes import save_event
from app.jurisdictions.models import Jurisdiction
from app.sources.models import Source


def event_cursor(event: EventRead) -> tuple[str, str]:
    return (event.date.isoformat(), event.id)


async def list_events(
    session: AsyncSession,
    *,
    jurisdiction_ids: list[int] | None,
    start: date | None,
    end: date | None,
    kinds: Sequence[str] | None,
    after: list[Any] | None,
    limit: int,
    ids: list[int] | None = None,
) -> list[EventRead]:
    """Events by date then id, filtered; `limit + 1` rows."""
    source_ids = (
        select(
            func.coalesce(
                func.array_agg(aggregate_order_by(Source.slug, Source.slug)), text("'{}'::text[]")
            )
        )
        .join(EventSource, EventSource.source_id == Source.id)
        .where(EventSource.event_id == Event.id)
        .scalar_subquery()
    )
    stmt = (
        select(
            Event.slug.label("id"),
            Jurisdiction.code.label("jurisdiction_code"),
            Event.event_date.label("date"),
            Event.kind,
            Event.title,
            Event.summary,
            source_ids.label("source_ids"),
        )
        .join(Jurisdiction, Jurisdiction.id == Event.jurisdiction_id)
        .order_by(Event.event_date, Event.slug)
        .limit(limit + 1)
    )
    if jurisdiction_ids is not None:
        stmt = stmt.where(Event.jurisdiction_id.in_(jurisdiction_ids))
    if start is not None:
        stmt = stmt.where(Event.event_date >= start)
    if end is not None:
        stmt = stmt.where(Event.event_date <= end)
    if kinds:
        stmt = stmt.where(Event.kind.in_(kinds))
    if ids is not None:
        stmt = stmt.where(Event.id.in_(ids))
    if after is not None:
        stmt = stmt.where(
            tuple_(Event.event_date, Event.slug) > tuple_(literal(after[0]), literal(after[1]))
        )
    return [EventRead.model_validate(dict(row)) for row in (await session.execute(stmt)).mappings()]


async def get_event(session: AsyncSession, event_id: str) -> EventRead:
    """One event by id (it must exist)."""
    stmt = select(Event.id).where(Event.slug == event_id)
    internal = await session.scalar(stmt)
    rows = await list_events(
        session,
        jurisdiction_ids=None,
        start=None,
        end=None,
        kinds=None,
        after=None,
        limit=100_000,
        ids=[internal] if internal else [],
    )
    return rows[0]


async def create_event(session: AsyncSession, *, record: EventRecord, actor: str) -> EventRead:
    """Add an event to the timeline, with its change record; 409 if its id is taken, 422 for
    an unknown jurisdiction or source."""
    if await session.scalar(select(Event.id).where(Event.slug == record.id)) is not None:
        raise ConflictError(f"An event with id {record.id!r} already exists.")
    await save_event(session, record, actor=actor)
    return await get_event(session, record.id)
