"""The change feed: reading it, and recording a write."""

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes.models import Change, DataVersion
from app.changes.schemas import ChangeRead, DataVersionRead


async def list_changes(
    session: AsyncSession,
    *,
    since: int,
    entity: str | None,
    limit: int,
    include_keys: bool = False,
) -> list[ChangeRead]:
    """Changes with an id above `since`, in id order (API keys only with include_keys);
    `limit + 1` rows."""
    stmt = select(Change).where(Change.id > since).order_by(Change.id).limit(limit + 1)
    if not include_keys:
        stmt = stmt.where(Change.entity != "api_key")
    if entity is not None:
        stmt = stmt.where(Change.entity == entity)
    return [ChangeRead.model_validate(c, from_attributes=True) for c in await session.scalars(stmt)]


async def record_change(
    session: AsyncSession,
    *,
    actor: str,
    entity: str,
    entity_key: str,
    action: str,
    before: Any | None,
    after: Any | None,
) -> int:
    """Append one change record; return its id."""
    change_id: int = (
        await session.execute(
            insert(Change)
            .values(
                actor=actor,
                entity=entity,
                entity_key=entity_key,
                action=action,
                before=before,
                after=after,
            )
            .returning(Change.id)
        )
    ).scalar_one()
    return change_id


async def record_changes(session: AsyncSession, changes: list[dict[str, Any]]) -> None:
    """Append change records (dicts of record_change's arguments), in few statements."""
    for chunk in range(0, len(changes), 1000):
        await session.execute(insert(Change), changes[chunk : chunk + 1000])


async def get_data_version(session: AsyncSession) -> DataVersionRead:
    """The data version (bumped by every write, in commit order) and when it last moved."""
    row = (
        await session.execute(
            select(DataVersion.version, DataVersion.changed_at).where(DataVersion.id == 1)
        )
    ).one()
    return DataVersionRead(version=row.version, changed_at=row.changed_at)
