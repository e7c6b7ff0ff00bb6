"""PUT /v1/indices/{key}: components must name existing features or metrics, with a
transform that fits their type."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.keys.schemas import KeyCreated
from tests.compare.fixtures import build_world
from tests.keys.helpers import (
    assert_created,
    assert_read_matches,
    bearer,
    changes_since,
    create_api_key,
    last_change_id,
)
from tests.test_errors import assert_problem


def component(kind: str, key: str, weight: float, transform: str) -> dict[str, Any]:
    return {"kind": kind, "key": key, "weight": weight, "transform": transform}


INDEX: dict[str, Any] = {
    "name": "Openness",
    "description": "How open the market is.",
    "methodology": "Weighted mean of 0-1 scores.",
    "components": [
        component("feature", "zz_retail", 0.5, "boolean"),
        component("feature", "zz_regime", 0.25, "enum_score"),
        component("metric", "zz_firms", 0.25, "rank"),
    ],
}


@pytest.fixture
async def key(session: AsyncSession) -> KeyCreated:
    return await create_api_key(session, "write")


@pytest.fixture
def auth(key: KeyCreated) -> dict[str, str]:
    return bearer(key)


@pytest.fixture(autouse=True)
async def world(session: AsyncSession) -> None:
    await build_world(session)


class TestPutIndex:
    async def test_creates_with_location_etag_and_change(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        response = await client.put("/v1/indices/ZZ_OPEN", json=INDEX, headers=auth)
        assert response.status_code == 201
        assert response.headers["location"] == "/v1/indices/zz_open"
        assert response.json() == {
            "key": "zz_open",
            "name": "Openness",
            "description": "How open the market is.",
            "methodology": "Weighted mean of 0-1 scores.",
            "components": [
                {**INDEX["components"][0], "name": "Zz retail", "higher_is_better": True},
                {**INDEX["components"][1], "name": "Zz regime", "higher_is_better": None},
                {**INDEX["components"][2], "name": "Zz firms", "higher_is_better": True},
            ],
        }
        await assert_read_matches(client, "/v1/indices/zz_open", response)
        await assert_created(
            client,
            since,
            actor=key.id,
            entity="index",
            entity_key="zz_open",
            after={"key": "zz_open", **INDEX},
        )

    async def test_the_new_index_ranks(self, client: AsyncClient, auth: dict[str, str]) -> None:
        await client.put("/v1/indices/zz_open", json=INDEX, headers=auth)
        response = await client.get(
            "/v1/indices/zz_open/scores", params={"jurisdictions": "XA,ZB,ZC"}
        )
        assert response.status_code == 200
        items = response.json()["items"]
        assert sorted(item["code"] for item in items) == ["XA", "ZB", "ZC"]
        assert (items[0]["code"], items[0]["rank"], items[0]["score"]) == ("XA", 1, 100.0)
        assert [c["key"] for c in items[0]["components"]] == ["zz_retail", "zz_regime", "zz_firms"]

    async def test_replaces_components_and_weights(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        new = {
            "name": "Zed index",
            "description": None,
            "methodology": None,
            "components": [component("feature", "zz_tax", 1, "minmax")],
        }
        response = await client.put("/v1/indices/zz_index", json=new, headers=auth)
        assert response.status_code == 200
        body = response.json()
        assert [(c["key"], c["weight"], c["transform"]) for c in body["components"]] == [
            ("zz_tax", 1.0, "minmax")
        ]
        read = await client.get("/v1/indices/zz_index")
        assert read.json() == body
        assert read.headers["etag"] == response.headers["etag"]
        [change] = await changes_since(client, since)
        assert change["action"] == "update"
        assert [c["key"] for c in change["before"]["components"]] == [
            "zz_regime",
            "zz_tax",
            "zz_firms",
        ]
        assert change["after"] == {
            "key": "zz_index",
            **new,
            "components": [component("feature", "zz_tax", 1.0, "minmax")],
        }

    async def test_same_definition_again_changes_nothing(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.put("/v1/indices/zz_open", json=INDEX, headers=auth)
        since = await last_change_id(session)
        response = await client.put("/v1/indices/zz_open", json=INDEX, headers=auth)
        assert response.status_code == 200
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize(
        ("bad", "loc", "msg"),
        [
            (
                component("feature", "zz_regime", 1, "boolean"),
                ["body", "components", 0, "transform"],
                "boolean needs a boolean feature, not enum",
            ),
            (
                component("feature", "zz_retail", 1, "enum_score"),
                ["body", "components", 0, "transform"],
                "enum_score needs an enum feature, not boolean",
            ),
            (
                component("feature", "zz_note", 1, "minmax"),
                ["body", "components", 0, "transform"],
                "minmax needs a numeric feature or a metric, not text",
            ),
            (
                component("metric", "zz_firms", 1, "enum_score"),
                ["body", "components", 0, "transform"],
                "enum_score needs an enum feature, not number",
            ),
            (
                component("feature", "zz_nope", 1, "boolean"),
                ["body", "components", 0],
                "unknown feature 'zz_nope'",
            ),
            (
                component("metric", "zz_retail", 1, "rank"),
                ["body", "components", 0],
                "unknown metric 'zz_retail'",
            ),
        ],
        ids=[
            "boolean-on-enum",
            "enum-score-on-boolean",
            "minmax-on-text",
            "enum-score-on-metric",
            "unknown-feature",
            "unknown-metric",
        ],
    )
    async def test_component_that_does_not_fit_is_422_and_stores_nothing(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        bad: dict[str, Any],
        loc: list[str | int],
        msg: str,
    ) -> None:
        since = await last_change_id(session)
        response = await client.put(
            "/v1/indices/zz_open", json={**INDEX, "components": [bad]}, headers=auth
        )
        body = assert_problem(response, 422)
        assert body["errors"] == [{"loc": loc, "msg": msg, "type": "invalid"}]
        assert_problem(await client.get("/v1/indices/zz_open"), 404)
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize(
        ("components", "loc"),
        [
            ([], ["body", "components"]),
            (
                [component("feature", "zz_retail", -1, "boolean")],
                ["body", "components", 0, "weight"],
            ),
            (
                [component("feature", "zz_retail", 1, "sqrt")],
                ["body", "components", 0, "transform"],
            ),
            ([component("country", "zz_retail", 1, "boolean")], ["body", "components", 0, "kind"]),
            ([component("feature", "zz_retail", 0, "boolean")], ["body"]),
            (
                [
                    component("feature", "zz_retail", 1, "boolean"),
                    component("feature", "zz_retail", 1, "boolean"),
                ],
                ["body"],
            ),
            (
                [{**component("feature", "zz_retail", 1, "boolean"), "x": 1}],
                ["body", "components", 0, "x"],
            ),
        ],
        ids=[
            "none",
            "negative-weight",
            "unknown-transform",
            "unknown-kind",
            "all-weights-zero",
            "listed-twice",
            "extra-field",
        ],
    )
    async def test_malformed_components_are_422(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        components: list[dict[str, Any]],
        loc: list[str | int],
    ) -> None:
        since = await last_change_id(session)
        response = await client.put(
            "/v1/indices/zz_open", json={**INDEX, "components": components}, headers=auth
        )
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [loc]
        assert await changes_since(client, since) == []

    async def test_bad_key_in_path_is_422(self, client: AsyncClient, auth: dict[str, str]) -> None:
        body = assert_problem(
            await client.put("/v1/indices/zz-open", json=INDEX, headers=auth), 422
        )
        assert [e["loc"] for e in body["errors"]] == [["path", "key"]]

    async def test_stale_if_match_is_412(self, client: AsyncClient, auth: dict[str, str]) -> None:
        stale = (await client.get("/v1/indices/zz_index")).headers["etag"]
        await client.put("/v1/indices/zz_index", json=INDEX, headers={**auth, "If-Match": stale})
        response = await client.put(
            "/v1/indices/zz_index",
            json={**INDEX, "name": "Other"},
            headers={**auth, "If-Match": stale},
        )
        assert_problem(response, 412)
        assert (await client.get("/v1/indices/zz_index")).json()["name"] == "Openness"
