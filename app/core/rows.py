"""Writing records as rows in bulk, for each domain's writers: natural keys resolved to row
ids, inserts and updates in few statements, source links. Flushes, never commits."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

# Row ids by table and natural key ("jurisdiction" -> {"HK": 7}), known before a write.
Ids = dict[str, dict[Any, int]]


def found(row_id: int | None) -> int:
    """A row id the plan said exists; the transaction holds the row, so a miss is a bug."""
    assert row_id is not None, "a row planned for update was not found"
    return row_id


class Rows:
    """Bulk inserts and updates resolving natural keys to row ids: the ids of every row a
    write names, read with its checks; rows created here are added as they are inserted. No
    table is read whole."""

    def __init__(self, session: AsyncSession, ids: Ids) -> None:
        self.session = session
        self.ids = ids

    async def insert(self, model: Any, rows: list[dict[str, Any]], *returning: Any) -> list[Any]:
        if not rows:
            return []
        result = await self.session.execute(insert(model).returning(*returning), rows)
        return list(result.all())

    async def insert_named(
        self, kind: str, model: Any, key: Any, rows: list[dict[str, Any]]
    ) -> None:
        """Insert rows of a table with a natural key and remember their ids."""
        for name, row_id in await self.insert(model, rows, key, model.id):
            self.ids[kind][name] = row_id

    async def update(self, model: Any, key_column: Any, key: Any, values: dict[str, Any]) -> None:
        await self.session.execute(update(model).where(key_column == key).values(**values))

    async def links(
        self,
        link: Any,
        owner_column: str,
        pairs: list[tuple[int, list[str]]],
        *,
        replaced: int | None = None,
    ) -> None:
        """Link owners to their sources; the first `replaced` owners (stored rows, not new
        ones) lose their old links first. Default: all of them."""
        if not pairs:
            return
        source_ids = self.ids["source"]
        owners = [owner for owner, _ in pairs][:replaced]
        if owners:
            await self.session.execute(delete(link).where(getattr(link, owner_column).in_(owners)))
        rows = [
            {owner_column: owner, "source_id": source_ids[slug]}
            for owner, slugs in pairs
            for slug in dict.fromkeys(slugs)
        ]
        for chunk in range(0, len(rows), 5000):
            await self.session.execute(insert(link), rows[chunk : chunk + 5000])


R = TypeVar("R", bound=BaseModel)


@dataclass
class Planned(Generic[R]):
    """What a write of records does against the stored ones: records to create, (stored,
    new) pairs to update, and how many are stored exactly so already."""

    create: list[R] = field(default_factory=list)
    change: list[tuple[R, R]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return len(self.create) + len(self.change)


def plan_records(
    records: list[R],
    stored: list[R],
    key: Callable[[R], Any],
    complete: Callable[[R, R | None], R] | None = None,
) -> Planned[R]:
    """Each record created, changed or unchanged, by its natural key `key`; `complete` fills
    what a record leaves to the stored one (a jurisdiction's regulators)."""
    existing = {key(r): r for r in stored}
    planned: Planned[R] = Planned()
    for record in records:
        before = existing.get(key(record))
        if complete is not None:
            record = complete(record, before)
        if before is None:
            planned.create.append(record)
        elif before.model_dump(mode="json") != record.model_dump(mode="json"):
            planned.change.append((before, record))
        else:
            planned.unchanged += 1
    return planned


def change_rows(
    actor: str, entity: str, key: Callable[[Any], str], planned: Planned[Any]
) -> list[dict[str, Any]]:
    """One change record per updated, then per created record (app.changes)."""
    return [
        {
            "actor": actor,
            "entity": entity,
            "entity_key": key(new),
            "action": "create" if before is None else "update",
            "before": None if before is None else before.model_dump(mode="json"),
            "after": new.model_dump(mode="json"),
        }
        for before, new in [*planned.change, *[(None, r) for r in planned.create]]
    ]
