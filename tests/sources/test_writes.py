"""PUT /v1/sources/{id}."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.keys.schemas import KeyCreated
from tests.keys.helpers import (
    assert_created,
    assert_read_matches,
    bearer,
    changes_since,
    create_api_key,
    last_change_id,
)
from tests.test_errors import assert_problem

SOURCE: dict[str, Any] = {
    "publisher": "Zed Gazette",
    "title": "Virtual Assets Act",
    "url": "https://example.org/zed/act",
    "published_on": "2021-03-01",
    "accessed_on": "2026-11-24",
    "kind": "law",
    "note": "Primary source (P).",
}


@pytest.fixture
async def key(session: AsyncSession) -> KeyCreated:
    return await create_api_key(session, "write")


@pytest.fixture
def auth(key: KeyCreated) -> dict[str, str]:
    return bearer(key)


@pytest.fixture
async def raw_client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client that sees a 500 as the response a user gets, not as a raised exception."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


class TestPutSource:
    async def test_creates_with_location_etag_and_change(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        response = await client.put("/v1/sources/ZZ-Gazette", json=SOURCE, headers=auth)
        assert response.status_code == 201
        assert response.headers["location"] == "/v1/sources/zz-gazette"
        assert response.json() == {"id": "zz-gazette", **SOURCE}
        await assert_read_matches(client, "/v1/sources/zz-gazette", response)
        await assert_created(
            client,
            since,
            actor=key.id,
            entity="source",
            entity_key="zz-gazette",
            after={"id": "zz-gazette", **SOURCE},
        )

    async def test_replaces_every_field(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.put("/v1/sources/zz-gazette", json=SOURCE, headers=auth)
        since = await last_change_id(session)
        new = {"publisher": "Zed News", "title": "Act explained", "kind": "news"}
        response = await client.put("/v1/sources/zz-gazette", json=new, headers=auth)
        assert response.status_code == 200
        expected = {
            "id": "zz-gazette",
            "url": None,
            "published_on": None,
            "accessed_on": None,
            "note": None,
            **new,
        }
        assert response.json() == expected
        read = await client.get("/v1/sources/zz-gazette")
        assert read.json() == expected
        assert read.headers["etag"] == response.headers["etag"]
        [change] = await changes_since(client, since)
        assert (change["action"], change["before"], change["after"]) == (
            "update",
            {"id": "zz-gazette", **SOURCE},
            expected,
        )

    async def test_same_source_again_changes_nothing(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.put("/v1/sources/zz-gazette", json=SOURCE, headers=auth)
        since = await last_change_id(session)
        response = await client.put("/v1/sources/zz-gazette", json=SOURCE, headers=auth)
        assert response.status_code == 200
        assert await changes_since(client, since) == []

    async def test_surrounding_whitespace_is_trimmed(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        response = await client.put(
            "/v1/sources/zz-gazette", json={**SOURCE, "publisher": "  Zed Gazette \n"}, headers=auth
        )
        assert response.json()["publisher"] == "Zed Gazette"

    @pytest.mark.parametrize(
        ("change", "loc"),
        [
            ({"kind": "blog"}, ["body", "kind"]),
            ({"url": "example.org/act"}, ["body", "url"]),
            ({"url": "https://exa mple.org"}, ["body", "url"]),
            ({"publisher": " "}, ["body", "publisher"]),
            ({"title": None}, ["body", "title"]),
            ({"published_on": "2021-02-30"}, ["body", "published_on"]),
            ({"id": "zz-other"}, ["body", "id"]),
        ],
        ids=["kind", "url-scheme", "url-space", "blank-publisher", "null-title", "date", "extra"],
    )
    async def test_invalid_source_is_422_and_stores_nothing(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        change: dict[str, Any],
        loc: list[str | int],
    ) -> None:
        since = await last_change_id(session)
        response = await client.put(
            "/v1/sources/zz-gazette", json={**SOURCE, **change}, headers=auth
        )
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [loc]
        assert_problem(await client.get("/v1/sources/zz-gazette"), 404)
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize("source_id", ["zz_gazette", "zz--gazette", "-zz", "zz gazette"])
    async def test_bad_id_in_path_is_422(
        self, client: AsyncClient, auth: dict[str, str], source_id: str
    ) -> None:
        body = assert_problem(
            await client.put(f"/v1/sources/{source_id}", json=SOURCE, headers=auth), 422
        )
        assert [e["loc"] for e in body["errors"]] == [["path", "id"]]

    async def test_current_if_match_is_accepted_and_stale_is_412(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        etag = (await client.put("/v1/sources/zz-gazette", json=SOURCE, headers=auth)).headers[
            "etag"
        ]
        current = await client.put(
            "/v1/sources/zz-gazette",
            json={**SOURCE, "title": "First"},
            headers={**auth, "If-Match": etag},
        )
        assert current.status_code == 200
        since = await last_change_id(session)
        stale = await client.put(
            "/v1/sources/zz-gazette",
            json={**SOURCE, "title": "Second"},
            headers={**auth, "If-Match": etag},
        )
        assert_problem(stale, 412)
        assert (await client.get("/v1/sources/zz-gazette")).json()["title"] == "First"
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize("field", ["publisher", "title", "note"])
    async def test_nul_character_is_422_not_a_server_error(
        self, raw_client: AsyncClient, auth: dict[str, str], field: str
    ) -> None:
        response = await raw_client.put(
            "/v1/sources/zz-gazette", json={**SOURCE, field: "Act\u0000"}, headers=auth
        )
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [["body", field]]
        assert_problem(await raw_client.get("/v1/sources/zz-gazette"), 404)

    @pytest.mark.parametrize("bad", [0, 1700000000, "1700000000", "2024-1-5"])
    async def test_anything_but_an_iso_date_is_422(
        self, client: AsyncClient, auth: dict[str, str], bad: object
    ) -> None:
        response = await client.put(
            "/v1/sources/zz-gazette", json={**SOURCE, "accessed_on": bad}, headers=auth
        )
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [["body", "accessed_on"]]
        assert_problem(await client.get("/v1/sources/zz-gazette"), 404)
