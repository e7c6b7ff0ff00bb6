from datetime import datetime
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes.models import Change
from app.changes.service import record_change
from tests.test_conventions import assert_not_modified, csv_rows, walk_pages
from tests.test_errors import assert_problem

WRITES: list[dict[str, Any]] = [
    {
        "actor": "key_zz1",
        "entity": "jurisdiction",
        "entity_key": "XA",
        "action": "create",
        "before": None,
        "after": {"code": "XA", "name": "Zedland"},
    },
    {
        "actor": "key_zz1",
        "entity": "feature_value",
        "entity_key": "XA:zz_flag:2024-01-01",
        "action": "create",
        "before": None,
        "after": {"value": True},
    },
    {
        "actor": "key_zz2",
        "entity": "jurisdiction",
        "entity_key": "XA",
        "action": "update",
        "before": {"name": "Zedland"},
        "after": {"name": "Zedland Alpha"},
    },
    {
        "actor": "cli",
        "entity": "feature_value",
        "entity_key": "XA:zz_flag:2024-01-01",
        "action": "delete",
        "before": {"value": True},
        "after": None,
    },
]


@pytest.fixture
async def changes(session: AsyncSession) -> list[dict[str, Any]]:
    """The four writes as the feed shows them (ids and times from the database)."""
    ids = [await record_change(session, **write) for write in WRITES]
    rows = {
        row.id: row.at for row in await session.scalars(select(Change).where(Change.id.in_(ids)))
    }
    return [{"id": i, "at": rows[i], **write} for i, write in zip(ids, WRITES, strict=True)]


def _parsed(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item | {"at": datetime.fromisoformat(item["at"])} for item in items]


class TestListChanges:
    async def test_since_returns_only_later_changes_in_id_order(
        self, client: AsyncClient, changes: list[dict[str, Any]]
    ) -> None:
        first = changes[0]["id"]
        response = await client.get(f"/v1/changes?since={first}")
        assert response.status_code == 200
        body = response.json()
        assert _parsed(body["items"]) == changes[1:]
        assert body["next_cursor"] is None

    async def test_since_before_the_first_returns_all(
        self, client: AsyncClient, changes: list[dict[str, Any]]
    ) -> None:
        response = await client.get(f"/v1/changes?since={changes[0]['id'] - 1}")
        assert _parsed(response.json()["items"]) == changes

    async def test_since_the_last_is_empty(
        self, client: AsyncClient, changes: list[dict[str, Any]]
    ) -> None:
        response = await client.get(f"/v1/changes?since={changes[-1]['id']}")
        assert response.json() == {"items": [], "next_cursor": None}

    async def test_ids_increase(self, changes: list[dict[str, Any]]) -> None:
        ids = [change["id"] for change in changes]
        assert ids == sorted(set(ids))

    @pytest.mark.parametrize(("limit", "pages"), [(1, 4), (3, 2), (4, 1)])
    async def test_pages_to_the_end(
        self, client: AsyncClient, changes: list[dict[str, Any]], limit: int, pages: int
    ) -> None:
        since = changes[0]["id"] - 1
        items, walked = await walk_pages(client, f"/v1/changes?since={since}&limit={limit}")
        assert _parsed(items) == changes
        assert walked == pages

    async def test_a_cursor_behind_since_does_not_go_back(
        self, client: AsyncClient, changes: list[dict[str, Any]]
    ) -> None:
        since = changes[0]["id"] - 1
        page = (await client.get(f"/v1/changes?since={since}&limit=1")).json()
        response = await client.get(
            f"/v1/changes?since={changes[2]['id']}&cursor={page['next_cursor']}"
        )
        assert _parsed(response.json()["items"]) == changes[3:]

    async def test_entity_filter(self, client: AsyncClient, changes: list[dict[str, Any]]) -> None:
        since = changes[0]["id"] - 1
        response = await client.get(f"/v1/changes?since={since}&entity=feature_value")
        assert _parsed(response.json()["items"]) == [changes[1], changes[3]]
        items, pages = await walk_pages(
            client, f"/v1/changes?since={since}&entity=jurisdiction&limit=1"
        )
        assert _parsed(items) == [changes[0], changes[2]]
        assert pages == 2

    async def test_unknown_entity_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/changes?entity=planet"), 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "entity"]]

    @pytest.mark.parametrize("since", ["-1", "x", "1.5"])
    async def test_bad_since_is_422(self, client: AsyncClient, since: str) -> None:
        body = assert_problem(await client.get(f"/v1/changes?since={since}"), 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "since"]]

    async def test_csv(self, client: AsyncClient, changes: list[dict[str, Any]]) -> None:
        rows = csv_rows(await client.get(f"/v1/changes?since={changes[1]['id']}&format=csv"))
        assert rows[0] == [
            "id",
            "at",
            "actor",
            "entity",
            "entity_key",
            "action",
            "before",
            "after",
        ]
        assert [row[:1] + row[2:] for row in rows[1:]] == [
            [str(changes[2]["id"]), "key_zz2", "jurisdiction", "XA", "update"]
            + ['{"name":"Zedland"}', '{"name":"Zedland Alpha"}'],
            [str(changes[3]["id"]), "cli", "feature_value", "XA:zz_flag:2024-01-01", "delete"]
            + ['{"value":true}', ""],
        ]
        assert [datetime.fromisoformat(row[1]) for row in rows[1:]] == [
            changes[2]["at"],
            changes[3]["at"],
        ]

    async def test_revalidates_with_etag(
        self, client: AsyncClient, changes: list[dict[str, Any]]
    ) -> None:
        await assert_not_modified(client, f"/v1/changes?since={changes[0]['id']}")

    async def test_a_new_change_changes_the_etag(
        self, client: AsyncClient, session: AsyncSession, changes: list[dict[str, Any]]
    ) -> None:
        url = f"/v1/changes?since={changes[0]['id'] - 1}"
        etag = (await client.get(url)).headers["etag"]
        await record_change(session, **WRITES[0])
        response = await client.get(url, headers={"If-None-Match": etag})
        assert response.status_code == 200
        assert len(response.json()["items"]) == 5
