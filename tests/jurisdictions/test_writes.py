"""PUT/PATCH/DELETE /v1/jurisdictions/{code}, and the change feed every write lands in."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.keys.schemas import KeyCreated
from tests.factories import (
    create_event,
    create_feature,
    create_feature_value,
    create_jurisdiction,
    create_metric,
    create_observation,
    create_regulator,
    create_source,
)
from tests.keys.helpers import bearer, changes_since, create_api_key, last_change_id
from tests.test_errors import assert_problem

REGULATOR = {
    "id": "xa-vaa",
    "name": "Virtual Asset Authority",
    "acronym": "VAA",
    "url": "https://example.org/vaa",
    "remit": ["virtual_assets", "aml"],
}
BODY: dict[str, Any] = {
    "name": "Zedland Alpha",
    "kind": "country",
    "parent_code": None,
    "region": "africa",
    "currency": "ZAR",
    "summary": "A test land.",
    "regulators": [REGULATOR],
}
RECORD = {"code": "XA", **BODY}
NO_COUNTS = {
    "features_in_force": 0,
    "feature_values": 0,
    "observations": 0,
    "metrics": 0,
    "events": 0,
    "sources": 0,
}


@pytest.fixture
async def key(session: AsyncSession) -> KeyCreated:
    return await create_api_key(session, "write")


@pytest.fixture
def auth(key: KeyCreated) -> dict[str, str]:
    return bearer(key)


def _profile(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "updated_at"}


class TestPutJurisdiction:
    async def test_creates_with_location_etag_and_profile(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        response = await client.put("/v1/jurisdictions/xa", json=BODY, headers=auth)
        assert response.status_code == 201
        assert response.headers["location"] == "/v1/jurisdictions/XA"
        assert _profile(response.json()) == {
            **BODY,
            "code": "XA",
            "regulators": [
                {**REGULATOR, "jurisdiction_code": "XA", "remit": ["virtual_assets", "aml"]}
            ],
            "counts": NO_COUNTS,
            "latest_metrics": [],
            "children": [],
        }
        read = await client.get("/v1/jurisdictions/XA")
        assert read.json() == response.json()
        assert response.headers["etag"] == read.headers["etag"]

    async def test_one_create_change_record_by_the_key(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)
        [change] = await changes_since(client, since)
        assert {k: change[k] for k in ("actor", "entity", "entity_key", "action")} == {
            "actor": key.id,
            "entity": "jurisdiction",
            "entity_key": "XA",
            "action": "create",
        }
        assert change["before"] is None
        assert change["after"] == RECORD

    async def test_replaces_fields_and_regulators(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)
        since = await last_change_id(session)
        new = {**BODY, "name": "Zedland", "summary": None, "regulators": []}
        response = await client.put("/v1/jurisdictions/XA", json=new, headers=auth)
        assert response.status_code == 200
        assert "location" not in response.headers
        body = response.json()
        assert (body["name"], body["summary"], body["regulators"]) == ("Zedland", None, [])
        read = await client.get("/v1/jurisdictions/XA")
        assert read.json() == body
        assert read.headers["etag"] == response.headers["etag"]
        [change] = await changes_since(client, since)
        assert change["action"] == "update"
        assert change["before"] == RECORD
        assert change["after"] == {"code": "XA", **new}

    async def test_same_body_again_changes_nothing(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        first = await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)
        since = await last_change_id(session)
        again = await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)
        assert again.status_code == 200
        assert again.json() == first.json()
        assert again.headers["etag"] == first.headers["etag"]
        assert await changes_since(client, since) == []

    async def test_subdivision_shows_in_its_parent(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)
        child = {**BODY, "name": "North", "kind": "subdivision", "parent_code": "xa"}
        response = await client.put(
            "/v1/jurisdictions/XA-NORTH", json={**child, "regulators": []}, headers=auth
        )
        assert response.status_code == 201
        assert response.json()["parent_code"] == "XA"
        assert (await client.get("/v1/jurisdictions/XA")).json()["children"] == ["XA-NORTH"]

    @pytest.mark.parametrize(
        ("change", "loc"),
        [
            ({"parent_code": "ZQ"}, ["body", "parent_code"]),
            ({"parent_code": "XA"}, ["body"]),
            ({"kind": "planet"}, ["body", "kind"]),
            ({"region": "atlantis"}, ["body", "region"]),
            ({"currency": "eur"}, ["body", "currency"]),
            ({"name": ""}, ["body", "name"]),
            ({"unknown": 1}, ["body", "unknown"]),
            ({"regulators": [{**REGULATOR, "url": "ftp://x"}]}, ["body", "regulators", 0, "url"]),
            (
                {"regulators": [{**REGULATOR, "remit": ["magic"]}]},
                ["body", "regulators", 0, "remit", 0],
            ),
            ({"regulators": [REGULATOR, REGULATOR]}, ["body"]),
        ],
        ids=[
            "unknown-parent",
            "own-parent",
            "kind",
            "region",
            "currency",
            "empty-name",
            "extra-field",
            "regulator-url",
            "regulator-remit",
            "regulator-twice",
        ],
    )
    async def test_invalid_body_is_422_and_stores_nothing(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        change: dict[str, Any],
        loc: list[str | int],
    ) -> None:
        since = await last_change_id(session)
        response = await client.put("/v1/jurisdictions/XA", json={**BODY, **change}, headers=auth)
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [loc]
        assert_problem(await client.get("/v1/jurisdictions/XA"), 404)
        assert await changes_since(client, since) == []

    async def test_unknown_parent_is_named(self, client: AsyncClient, auth: dict[str, str]) -> None:
        response = await client.put(
            "/v1/jurisdictions/XA", json={**BODY, "parent_code": "ZQ"}, headers=auth
        )
        body = assert_problem(response, 422)
        assert body["errors"][0]["msg"] == "unknown jurisdiction 'ZQ'"

    async def test_own_parent_is_refused_with_a_reason(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        response = await client.put(
            "/v1/jurisdictions/XA", json={**BODY, "parent_code": "XA"}, headers=auth
        )
        body = assert_problem(response, 422)
        assert body["errors"][0]["msg"] == "Value error, a jurisdiction cannot be its own parent"

    async def test_parent_cycle_is_422(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        top = await create_jurisdiction(session, "ZB")
        await create_jurisdiction(session, "ZB-SUB", kind="subdivision", parent=top)
        response = await client.put(
            "/v1/jurisdictions/ZB",
            json={**BODY, "parent_code": "ZB-SUB", "regulators": []},
            headers=auth,
        )
        body = assert_problem(response, 422)
        assert body["errors"] == [
            {"loc": ["body", "parent_code"], "msg": "parent chain forms a cycle", "type": "invalid"}
        ]
        assert (await client.get("/v1/jurisdictions/ZB")).json()["parent_code"] is None

    async def test_regulator_of_another_jurisdiction_is_409(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        other = await create_jurisdiction(session, "ZB")
        await create_regulator(session, other, "xa-vaa")
        response = await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)
        body = assert_problem(response, 409)
        assert body["errors"][0]["loc"] == ["body", "regulators", 0, "id"]
        assert body["errors"][0]["msg"] == "regulator 'xa-vaa' belongs to ZB"
        assert_problem(await client.get("/v1/jurisdictions/XA"), 404)

    @pytest.mark.parametrize("code", ["Z", "ZAA", "Z1", "XA-", "XA-TOOLONGPART"])
    async def test_bad_code_in_path_is_422(
        self, client: AsyncClient, auth: dict[str, str], code: str
    ) -> None:
        body = assert_problem(
            await client.put(f"/v1/jurisdictions/{code}", json=BODY, headers=auth), 422
        )
        assert [e["loc"] for e in body["errors"]] == [["path", "code"]]

    async def test_malformed_json_is_400(self, client: AsyncClient, auth: dict[str, str]) -> None:
        response = await client.put(
            "/v1/jurisdictions/XA",
            content=b'{"name": "Zedland",',
            headers={**auth, "content-type": "application/json"},
        )
        body = assert_problem(response, 400)
        assert body["detail"].startswith("The request body is not valid JSON")


class TestIfMatch:
    async def test_current_etag_is_accepted(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        created = await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)
        etag = (await client.get("/v1/jurisdictions/XA")).headers["etag"]
        assert etag == created.headers["etag"]
        response = await client.put(
            "/v1/jurisdictions/XA",
            json={**BODY, "name": "Renamed"},
            headers={**auth, "If-Match": etag},
        )
        assert response.status_code == 200
        assert response.headers["etag"] != etag

    async def test_stale_etag_is_412_and_keeps_the_first_write(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        stale = (await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)).headers["etag"]
        await client.put("/v1/jurisdictions/XA", json={**BODY, "name": "First"}, headers=auth)
        since = await last_change_id(session)
        for method, body in (("PUT", {**BODY, "name": "Second"}), ("PATCH", {"name": "Second"})):
            response = await client.request(
                method, "/v1/jurisdictions/XA", json=body, headers={**auth, "If-Match": stale}
            )
            problem = assert_problem(response, 412)
            assert problem["detail"].startswith("The resource has changed (its ETag is ")
        assert (await client.get("/v1/jurisdictions/XA")).json()["name"] == "First"
        assert await changes_since(client, since) == []

    async def test_if_match_on_a_missing_jurisdiction_is_412(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        response = await client.put(
            "/v1/jurisdictions/XA", json=BODY, headers={**auth, "If-Match": '"abc"'}
        )
        assert_problem(response, 412)
        assert_problem(await client.get("/v1/jurisdictions/XA"), 404)

    async def test_star_and_a_list_holding_the_tag_match(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)
        star = await client.patch(
            "/v1/jurisdictions/XA", json={"name": "A"}, headers={**auth, "If-Match": "*"}
        )
        assert star.status_code == 200
        listed = await client.patch(
            "/v1/jurisdictions/XA",
            json={"name": "B"},
            headers={**auth, "If-Match": f'"other", {star.headers["etag"]}'},
        )
        assert listed.status_code == 200

    async def test_patch_with_if_none_match_star_is_412_and_changes_nothing(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        """If-None-Match: * asks to create only; a PATCH of a stored jurisdiction fails it."""
        await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)
        since = await last_change_id(session)
        response = await client.patch(
            "/v1/jurisdictions/XA", json={"name": "B"}, headers={**auth, "If-None-Match": "*"}
        )
        assert_problem(response, 412)
        assert (await client.get("/v1/jurisdictions/XA")).json()["name"] == BODY["name"]
        assert await changes_since(client, since) == []

    async def test_patch_of_a_missing_jurisdiction_is_404(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        assert_problem(
            await client.patch("/v1/jurisdictions/XQ", json={"name": "B"}, headers=auth), 404
        )


class TestPatchJurisdiction:
    async def test_changes_only_the_fields_sent(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)
        since = await last_change_id(session)
        response = await client.patch(
            "/v1/jurisdictions/xa", json={"summary": "Changed.", "currency": None}, headers=auth
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["name"], body["summary"], body["currency"]) == (
            "Zedland Alpha",
            "Changed.",
            None,
        )
        assert len(body["regulators"]) == 1
        read = await client.get("/v1/jurisdictions/XA")
        assert read.json() == body
        assert read.headers["etag"] == response.headers["etag"]
        [change] = await changes_since(client, since)
        assert (change["action"], change["actor"]) == ("update", key.id)
        assert change["before"] == RECORD
        assert change["after"] == {**RECORD, "summary": "Changed.", "currency": None}

    async def test_null_for_a_required_field_is_422(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)
        since = await last_change_id(session)
        body = assert_problem(
            await client.patch("/v1/jurisdictions/XA", json={"name": None}, headers=auth), 422
        )
        assert [e["loc"] for e in body["errors"]] == [["body", "name"]]
        assert (await client.get("/v1/jurisdictions/XA")).json()["name"] == "Zedland Alpha"
        assert await changes_since(client, since) == []

    async def test_extra_field_is_422(self, client: AsyncClient, auth: dict[str, str]) -> None:
        await client.put("/v1/jurisdictions/XA", json=BODY, headers=auth)
        body = assert_problem(
            await client.patch("/v1/jurisdictions/XA", json={"code": "ZB"}, headers=auth), 422
        )
        assert [e["loc"] for e in body["errors"]] == [["body", "code"]]

    async def test_unknown_code_is_404(self, client: AsyncClient, auth: dict[str, str]) -> None:
        body = assert_problem(
            await client.patch("/v1/jurisdictions/ZQ", json={"name": "X"}, headers=auth), 404
        )
        assert body["detail"] == "No jurisdiction with code 'ZQ'."


class TestDeleteJurisdiction:
    async def test_deletes_it_with_its_own_data(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        xa = await create_jurisdiction(session, "XA", name="Zedland", currency="EUR")
        zb = await create_jurisdiction(session, "ZB")
        await create_regulator(session, xa, "xa-vaa", name="VAA")
        source = await create_source(session, "zz-law")
        feature = await create_feature(session, "zz_retail")
        metric = await create_metric(session, "zz_firms")
        for land in (xa, zb):
            await create_feature_value(session, land, feature, True, sources=[source])
            await create_observation(session, land, metric, "2024", 3, sources=[source])
            await create_event(session, land, f"{land.code.lower()}-act", sources=[source])
        since = await last_change_id(session)
        admin = bearer(await create_api_key(session, "admin"))

        response = await client.delete("/v1/jurisdictions/XA?cascade=true", headers=admin)

        assert response.status_code == 204
        assert response.content == b""
        assert_problem(await client.get("/v1/jurisdictions/XA"), 404)
        values = (await client.get("/v1/features/zz_retail/values")).json()["items"]
        assert [v["jurisdiction_code"] for v in values] == ["ZB"]
        observations = (await client.get("/v1/metrics/zz_firms/observations")).json()["items"]
        assert [o["jurisdiction_code"] for o in observations] == ["ZB"]
        events = (await client.get("/v1/events", params={"limit": 500})).json()["items"]
        assert "xa-act" not in {e["id"] for e in events}
        assert "zb-act" in {e["id"] for e in events}
        assert (await client.get("/v1/sources/zz-law")).status_code == 200
        *removed, change = await changes_since(client, since)
        assert [(c["entity"], c["action"], c["after"]) for c in removed] == [
            ("feature_value", "delete", None),
            ("observation", "delete", None),
            ("event", "delete", None),
        ]
        assert {k: change[k] for k in ("entity", "entity_key", "action", "after")} == {
            "entity": "jurisdiction",
            "entity_key": "XA",
            "action": "delete",
            "after": None,
        }
        assert change["before"] == {
            "code": "XA",
            "name": "Zedland",
            "kind": "country",
            "parent_code": None,
            "region": "europe",
            "currency": "EUR",
            "summary": None,
            "regulators": [
                {
                    "id": "xa-vaa",
                    "name": "VAA",
                    "acronym": None,
                    "url": None,
                    "remit": ["virtual_assets"],
                }
            ],
        }

    async def test_with_subdivisions_is_409_naming_them(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        xa = await create_jurisdiction(session, "XA")
        await create_jurisdiction(session, "XA-S", kind="subdivision", parent=xa)
        await create_jurisdiction(session, "XA-N", kind="subdivision", parent=xa)
        since = await last_change_id(session)
        body = assert_problem(await client.delete("/v1/jurisdictions/XA", headers=auth), 409)
        assert body["detail"] == (
            "Cannot delete XA: it contains XA-N, XA-S (delete or re-parent them first)."
        )
        assert (await client.get("/v1/jurisdictions/XA")).status_code == 200
        assert await changes_since(client, since) == []

    async def test_named_as_counterpart_is_409(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        xa = await create_jurisdiction(session, "XA")
        zb = await create_jurisdiction(session, "ZB")
        flow = await create_metric(session, "zz_flow", bilateral=True)
        await create_observation(session, zb, flow, "2024", 10, counterpart=xa)
        body = assert_problem(await client.delete("/v1/jurisdictions/XA", headers=auth), 409)
        assert body["detail"] == (
            "Cannot delete XA: 1 observation(s) of other jurisdictions name it as counterpart."
        )
        assert (await client.get("/v1/metrics/zz_flow/observations")).json()["items"] != []

    async def test_stale_if_match_is_412(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await create_jurisdiction(session, "XA")
        response = await client.delete(
            "/v1/jurisdictions/XA", headers={**auth, "If-Match": '"stale"'}
        )
        assert_problem(response, 412)
        assert (await client.get("/v1/jurisdictions/XA")).status_code == 200

    async def test_current_if_match_deletes(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await create_jurisdiction(session, "XA")
        etag = (await client.get("/v1/jurisdictions/XA")).headers["etag"]
        response = await client.delete("/v1/jurisdictions/XA", headers={**auth, "If-Match": etag})
        assert response.status_code == 204

    async def test_unknown_code_is_404(self, client: AsyncClient, auth: dict[str, str]) -> None:
        body = assert_problem(await client.delete("/v1/jurisdictions/ZQ", headers=auth), 404)
        assert body["detail"] == "No jurisdiction with code 'ZQ'."


class TestMethodNotAllowed:
    @pytest.mark.parametrize("method", ["POST", "OPTIONS"])
    async def test_allow_lists_every_method_of_the_path(
        self, client: AsyncClient, session: AsyncSession, method: str
    ) -> None:
        await create_jurisdiction(session, "XA")
        response = await client.request(method, "/v1/jurisdictions/XA")
        body = assert_problem(response, 405)
        assert body["detail"] == f"{method} is not allowed on /v1/jurisdictions/XA."
        assert response.headers["allow"] == "DELETE, GET, HEAD, PATCH, PUT"

    async def test_method_not_allowed_problem_is_named(self, client: AsyncClient) -> None:
        body = assert_problem(await client.post("/v1/sources"), 405)
        assert (body["title"], body["type"]) == (
            "Method Not Allowed",
            "/problems/method-not-allowed",
        )


class TestChangeFeed:
    async def test_each_write_appears_once_in_order(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        writes = [
            ("PUT", "/v1/sources/zz-law", {"publisher": "P", "title": "Act", "kind": "law"}),
            ("PUT", "/v1/jurisdictions/XA", {**BODY, "regulators": []}),
            (
                "PUT",
                "/v1/features/zz_retail",
                {"name": "Retail", "category": "market_access", "value_type": "boolean"},
            ),
            (
                "PUT",
                "/v1/jurisdictions/XA/features/zz_retail",
                {
                    "value": True,
                    "valid_from": "2024-01-01",
                    "source_ids": ["zz-law"],
                    "confidence": "verified",
                },
            ),
            (
                "POST",
                "/v1/events",
                {
                    "id": "xa-act",
                    "jurisdiction_code": "XA",
                    "date": "2024-01-01",
                    "kind": "law_effective",
                    "title": "Act in force",
                    "source_ids": ["zz-law"],
                },
            ),
        ]
        for method, path, body in writes:
            response = await client.request(method, path, json=body, headers=auth)
            assert response.status_code == 201, response.text

        changes = await changes_since(client, since)

        assert [(c["entity"], c["entity_key"], c["action"]) for c in changes] == [
            ("source", "zz-law", "create"),
            ("jurisdiction", "XA", "create"),
            ("feature", "zz_retail", "create"),
            ("feature_value", "XA:zz_retail", "create"),
            ("event", "xa-act", "create"),
        ]
        assert {c["actor"] for c in changes} == {key.id}
        ids = [c["id"] for c in changes]
        assert ids == sorted(ids)
        assert len(set(ids)) == 5
        later = await changes_since(client, ids[2])
        assert [c["id"] for c in later] == ids[3:]
        feed = (await client.get("/v1/changes", params={"since": ids[0], "limit": 2})).json()
        assert [c["id"] for c in feed["items"]] == ids[1:3]
        assert feed["next_cursor"] is not None

    async def test_a_refused_write_leaves_no_record(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await create_jurisdiction(session, "XA", name="Kept")
        since = await last_change_id(session)
        await client.put("/v1/jurisdictions/XA", json={**BODY, "kind": "planet"}, headers=auth)
        await client.delete("/v1/jurisdictions/ZQ", headers=auth)
        assert await changes_since(client, since) == []
        assert (await client.get("/v1/jurisdictions/XA")).json()["name"] == "Kept"
