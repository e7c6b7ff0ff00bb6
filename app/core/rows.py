"""Writing records as rows in bulk, for each domain's writers: natural keys resolved to row
ids, inserts and updates in few statements, source links. Flushes, never commits."""

from typing import Any

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
