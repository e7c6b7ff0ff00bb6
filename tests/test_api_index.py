"""GET /v1: the API's entry point."""

from datetime import datetime

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.changes.service import record_change
from app.core.config import Settings
from tests.keys.helpers import bearer, build_app, settings_for
from tests.test_conventions import CACHE_CONTROL, assert_not_modified
from tests.test_errors import assert_problem

LINKS = {
    "jurisdictions": "/v1/jurisdictions",
    "features": "/v1/features",
    "metrics": "/v1/metrics",
    "sources": "/v1/sources",
    "events": "/v1/events",
    "changes": "/v1/changes",
    "indices": "/v1/indices",
    "compare": "/v1/compare",
    "scenarios": "/v1/scenarios/evaluate",
    "keys": "/v1/keys",
    "openapi": "/openapi.json",
    "docs": "/docs",
}


async def _data_version(session: AsyncSession) -> tuple[int, datetime]:
    row = (await session.execute(text("SELECT version, changed_at FROM data_version"))).one()
    return row.version, row.changed_at


class TestGetApiIndex:
    async def test_names_the_api_its_data_version_and_where_to_go(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        version, changed_at = await _data_version(session)
        response = await client.get("/v1")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "name": "Juriscope",
            "version": "1.0.0",
            "data_version": version,
            "data_changed_at": changed_at.isoformat().replace("+00:00", "Z"),
            "links": LINKS,
        }

    async def test_the_data_version_moves_with_a_write(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        before = (await client.get("/v1")).json()["data_version"]
        await record_change(
            session,
            actor="t",
            entity="source",
            entity_key="zz",
            action="create",
            before=None,
            after={},
        )
        assert (await client.get("/v1")).json()["data_version"] == before + 1

    @pytest.mark.parametrize(
        "link",
        [
            "jurisdictions",
            "features",
            "metrics",
            "sources",
            "events",
            "changes",
            "indices",
            "openapi",
            "docs",
        ],
    )
    async def test_each_link_is_readable(self, client: AsyncClient, link: str) -> None:
        assert (await client.get(LINKS[link])).status_code == 200

    async def test_the_links_that_need_more_lead_to_their_operation(
        self, client: AsyncClient
    ) -> None:
        compare = assert_problem(await client.get(LINKS["compare"]), 422)
        assert compare["errors"][0]["loc"] == ["query", "jurisdictions"]
        assert_problem(await client.post(LINKS["scenarios"], json={}), 422)
        assert_problem(await client.get(LINKS["keys"]), 401)

    async def test_revalidates_with_its_etag(self, client: AsyncClient) -> None:
        await assert_not_modified(client, "/v1")
        assert (await client.get("/v1")).headers["cache-control"] == CACHE_CONTROL

    async def test_csv_is_406_problem(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1", headers={"Accept": "text/csv"}), 406)
        assert body["detail"] == "Cannot produce 'text/csv'; this endpoint serves application/json."

    async def test_needs_no_key_where_reads_do(
        self, settings: Settings, engine: AsyncEngine, session: AsyncSession
    ) -> None:
        app = build_app(settings_for(settings, public_read=False), engine, session)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
            assert_problem(await client.get("/v1/jurisdictions"), 401)
            response = await client.get("/v1")
            assert response.status_code == 200
            assert response.json()["links"] == LINKS
            assert response.headers["cache-control"] == "private, max-age=60"

    async def test_a_key_is_not_looked_at(self, client: AsyncClient) -> None:
        response = await client.get("/v1", headers=bearer("jsk_deadbeef_nope"))
        assert response.status_code == 200

    async def test_a_trailing_slash_redirects_to_it(self, client: AsyncClient) -> None:
        response = await client.get("/v1/")
        assert response.status_code == 307
        assert response.headers["location"] == "http://test/v1"

    async def test_a_nul_in_the_query_is_422_problem(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1?x=a%00b"), 422)
        assert body["errors"] == [
            {"loc": ["query", "x"], "msg": "Contains the NUL character", "type": "nul_character"}
        ]
