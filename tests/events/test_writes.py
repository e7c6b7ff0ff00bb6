"""POST /v1/events."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.keys.schemas import KeyCreated
from tests.factories import create_jurisdiction, create_source
from tests.keys.helpers import assert_created, bearer, changes_since, create_api_key, last_change_id
from tests.test_errors import assert_problem

EVENT: dict[str, Any] = {
    "id": "xa-2024-act",
    "jurisdiction_code": "XA",
    "date": "2024-06-01",
    "kind": "law_effective",
    "title": "Virtual Assets Act in force",
    "summary": "Licensing starts.",
    "source_ids": ["zz-law"],
}


@pytest.fixture
async def key(session: AsyncSession) -> KeyCreated:
    return await create_api_key(session, "write")


@pytest.fixture
def auth(key: KeyCreated) -> dict[str, str]:
    return bearer(key)


@pytest.fixture(autouse=True)
async def land(session: AsyncSession) -> None:
    await create_jurisdiction(session, "XA")
    await create_source(session, "zz-law")
    await create_source(session, "zz-news", kind="news")


async def _events(client: AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/events", params={"jurisdictions": "XA"})
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


class TestCreateEvent:
    async def test_adds_it_to_the_timeline(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        response = await client.post(
            "/v1/events",
            json={**EVENT, "jurisdiction_code": "xa", "source_ids": ["zz-news", "zz-law"]},
            headers=auth,
        )
        assert response.status_code == 201
        assert response.headers["location"] == "/v1/events?jurisdictions=XA"
        stored = {**EVENT, "source_ids": ["zz-law", "zz-news"]}
        assert response.json() == stored
        assert await _events(client) == [stored]
        timeline = (await client.get("/v1/jurisdictions/XA/events")).json()["items"]
        assert timeline == [stored]
        await assert_created(
            client,
            since,
            actor=key.id,
            entity="event",
            entity_key="xa-2024-act",
            after=stored,
        )

    async def test_taken_id_is_409_and_keeps_the_first(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.post("/v1/events", json=EVENT, headers=auth)
        since = await last_change_id(session)
        response = await client.post(
            "/v1/events", json={**EVENT, "id": "XA-2024-ACT", "title": "Other"}, headers=auth
        )
        body = assert_problem(response, 409)
        assert body["detail"] == "An event with id 'xa-2024-act' already exists."
        assert [e["title"] for e in await _events(client)] == [EVENT["title"]]
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize(
        ("change", "loc", "status"),
        [
            ({"jurisdiction_code": "ZQ"}, ["body", "jurisdiction_code"], 422),
            ({"source_ids": ["zz-nope"]}, ["body", "source_ids"], 422),
            ({"source_ids": []}, ["body", "source_ids"], 422),
            ({"kind": "rumour"}, ["body", "kind"], 422),
            ({"date": "2024-06-31"}, ["body", "date"], 422),
            ({"title": ""}, ["body", "title"], 422),
            ({"id": "xa 2024 act"}, ["body", "id"], 422),
            ({"jurisdiction_code": "Z"}, ["body", "jurisdiction_code"], 422),
            ({"extra": True}, ["body", "extra"], 422),
        ],
        ids=[
            "unknown-jurisdiction",
            "unknown-source",
            "no-source",
            "kind",
            "date",
            "empty-title",
            "bad-id",
            "bad-code",
            "extra-field",
        ],
    )
    async def test_invalid_event_is_refused_and_stores_nothing(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        change: dict[str, Any],
        loc: list[str | int],
        status: int,
    ) -> None:
        since = await last_change_id(session)
        response = await client.post("/v1/events", json={**EVENT, **change}, headers=auth)
        body = assert_problem(response, status)
        assert [e["loc"] for e in body["errors"]] == [loc]
        assert await _events(client) == []
        assert await changes_since(client, since) == []

    async def test_unknown_names_are_named(self, client: AsyncClient, auth: dict[str, str]) -> None:
        response = await client.post(
            "/v1/events",
            json={**EVENT, "jurisdiction_code": "ZQ", "source_ids": ["zz-nope"]},
            headers=auth,
        )
        body = assert_problem(response, 422)
        assert sorted(e["msg"] for e in body["errors"]) == [
            "unknown jurisdiction 'ZQ'",
            "unknown source 'zz-nope'",
        ]

    async def test_missing_field_is_422(self, client: AsyncClient, auth: dict[str, str]) -> None:
        body = {k: v for k, v in EVENT.items() if k != "date"}
        problem = assert_problem(await client.post("/v1/events", json=body, headers=auth), 422)
        assert [e["loc"] for e in problem["errors"]] == [["body", "date"]]

    async def test_malformed_json_is_400(self, client: AsyncClient, auth: dict[str, str]) -> None:
        response = await client.post(
            "/v1/events", content=b"[{", headers={**auth, "content-type": "application/json"}
        )
        assert_problem(response, 400)
