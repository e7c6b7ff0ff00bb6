"""Saved scenarios (POST/GET/PUT/DELETE /v1/scenarios) and their evaluation, on the small
world of tests/compare/fixtures.py (baseline on 2025-01-01: XA 100, ZB 30, ZC 0)."""

import csv
import io
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.dataset import loader
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
from tests.scenarios.test_router import scenario as evaluate_body
from tests.test_errors import assert_problem

URL = "/v1/scenarios"

SCENARIO: dict[str, Any] = {
    "id": "zb-licence",
    "name": "Zedland B licenses and cuts tax",
    "index": "zz_index",
    "jurisdiction": "ZB",
    "overrides": [
        {"feature": "zz_regime", "value": "licence"},
        {"feature": "zz_tax", "value": 5},
        {"feature": "zz_retail", "value": True},
    ],
    "weights": {},
    "description": "A licence regime and a 5% tax.",
    "rationale": "Asked for by the Zed Gazette.",
    "source_ids": ["zz-law"],
}
READ: dict[str, Any] = {
    **SCENARIO,
    "overrides": [{**o, "metric": None} for o in SCENARIO["overrides"]],
}


def body_without_id() -> dict[str, Any]:
    return {k: v for k, v in SCENARIO.items() if k != "id"}


@pytest.fixture
async def key(session: AsyncSession) -> KeyCreated:
    return await create_api_key(session, "write")


@pytest.fixture
def auth(key: KeyCreated) -> dict[str, str]:
    return bearer(key)


@pytest.fixture
async def world(session: AsyncSession) -> None:
    await build_world(session)


async def save(client: AsyncClient, auth: dict[str, str], **changes: Any) -> Any:
    response = await client.post(URL, json={**SCENARIO, **changes}, headers=auth)
    assert response.status_code == 201, response.text
    return response


@pytest.mark.usefixtures("world")
class TestCreateScenario:
    async def test_creates_with_location_etag_and_one_change(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        response = await save(client, auth, id="ZB-Licence")
        assert response.headers["location"] == "/v1/scenarios/zb-licence"
        assert response.json() == READ
        await assert_read_matches(client, "/v1/scenarios/zb-licence", response)
        await assert_created(
            client,
            since,
            actor=key.id,
            entity="scenario",
            entity_key="zb-licence",
            after=READ,
        )

    async def test_taken_id_is_409(self, client: AsyncClient, auth: dict[str, str]) -> None:
        await save(client, auth)
        body = assert_problem(await client.post(URL, json=SCENARIO, headers=auth), 409)
        assert body["detail"] == "A scenario with id 'zb-licence' already exists."

    async def test_needs_a_write_key(self, client: AsyncClient, session: AsyncSession) -> None:
        response = await client.post(URL, json=SCENARIO)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        bad = await client.post(URL, json=SCENARIO, headers={"Authorization": "Bearer jsk_no"})
        assert_problem(bad, 401)
        nobody = await create_api_key(session)
        assert_problem(await client.post(URL, json=SCENARIO, headers=bearer(nobody)), 403)
        assert_problem(await client.get("/v1/scenarios/zb-licence"), 404)

    @pytest.mark.parametrize(
        "overrides",
        [
            [{"feature": "zz_regime", "value": "monarchy"}],
            [{"feature": "zz_tax", "value": "low"}],
            [{"feature": "zz_retail", "value": 1}],
            [{"feature": "nope", "value": 1}],
            [{"metric": "zz_firms", "value": "many"}],
            [{"metric": "zz_firms", "value": -1}],
            [{"metric": "zz_flow", "value": 3}],
            [{"feature": "zz_tax", "value": 1}, {"feature": "zz_tax", "value": 2}],
            [{"feature": "zz_tax", "metric": "zz_firms", "value": 1}],
            [{"value": 1}],
        ],
        ids=[
            "enum",
            "percent",
            "boolean",
            "unknown-feature",
            "metric-number",
            "log-domain",
            "bilateral",
            "twice",
            "both-targets",
            "no-target",
        ],
    )
    async def test_overrides_get_the_errors_of_evaluate(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        overrides: list[Any],
    ) -> None:
        since = await last_change_id(session)
        evaluated = await client.post(
            "/v1/scenarios/evaluate", json=evaluate_body("ZB", *overrides)
        )
        saved = await client.post(URL, json={**SCENARIO, "overrides": overrides}, headers=auth)
        assert saved.status_code == evaluated.status_code == 422
        assert saved.json()["errors"] == evaluated.json()["errors"]
        assert saved.json()["detail"] == evaluated.json()["detail"]
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize(
        ("change", "status"),
        [
            ({"index": "nope"}, 404),
            ({"jurisdiction": "QQ"}, 404),
            ({"weights": {"x": 1}}, 422),
            ({"weights": {"zz_tax": -1}}, 422),
            ({"surprise": 1}, 422),
        ],
        ids=["index", "jurisdiction", "weights-key", "weights-negative", "extra"],
    )
    async def test_other_errors_are_those_of_evaluate(
        self, client: AsyncClient, auth: dict[str, str], change: dict[str, Any], status: int
    ) -> None:
        request = {**evaluate_body("ZB"), "jurisdictions": None, **change}
        evaluated = await client.post("/v1/scenarios/evaluate", json=request)
        saved = await client.post(URL, json={**SCENARIO, **change}, headers=auth)
        assert saved.status_code == evaluated.status_code == status
        assert saved.json().get("errors") == evaluated.json().get("errors")
        assert saved.json()["detail"] == evaluated.json()["detail"]

    @pytest.mark.parametrize(
        ("change", "loc"),
        [
            ({"id": "zb_licence"}, ["body", "id"]),
            ({"id": "evaluate"}, ["body", "id"]),
            ({"name": " "}, ["body", "name"]),
            ({"source_ids": ["zz-unknown"]}, ["body", "source_ids"]),
        ],
        ids=["id", "reserved-id", "blank-name", "unknown-source"],
    )
    async def test_record_rules(
        self, client: AsyncClient, auth: dict[str, str], change: dict[str, Any], loc: list[Any]
    ) -> None:
        body = assert_problem(
            await client.post(URL, json={**SCENARIO, **change}, headers=auth), 422
        )
        assert body["errors"][0]["loc"] == loc


@pytest.mark.usefixtures("world")
class TestPutAndDeleteScenario:
    async def test_put_creates_then_replaces_with_if_match(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        created = await client.put(f"{URL}/zb-licence", json=body_without_id(), headers=auth)
        assert created.status_code == 201
        assert created.headers["location"] == "/v1/scenarios/zb-licence"
        etag = created.headers["etag"]
        since = await last_change_id(session)
        renamed = {**body_without_id(), "name": "Renamed"}
        replaced = await client.put(
            f"{URL}/zb-licence", json=renamed, headers={**auth, "If-Match": etag}
        )
        assert replaced.status_code == 200
        assert replaced.json()["name"] == "Renamed"
        await assert_read_matches(client, f"{URL}/zb-licence", replaced)
        [change] = await changes_since(client, since)
        assert (change["entity"], change["action"], change["before"]["name"]) == (
            "scenario",
            "update",
            SCENARIO["name"],
        )
        stale = await client.put(
            f"{URL}/zb-licence", json=body_without_id(), headers={**auth, "If-Match": etag}
        )
        assert_problem(stale, 412)
        weak = await client.put(
            f"{URL}/zb-licence",
            json=body_without_id(),
            headers={**auth, "If-Match": f"W/{replaced.headers['etag']}"},
        )
        assert_problem(weak, 412)

    async def test_if_none_match_star_creates_only(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        headers = {**auth, "If-None-Match": "*"}
        first = await client.put(f"{URL}/zb-licence", json=body_without_id(), headers=headers)
        assert first.status_code == 201
        again = await client.put(f"{URL}/zb-licence", json=body_without_id(), headers=headers)
        assert_problem(again, 412)

    async def test_put_validates_like_evaluate(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        overrides = [{"feature": "zz_regime", "value": "monarchy"}]
        response = await client.put(
            f"{URL}/zb-licence", json={**body_without_id(), "overrides": overrides}, headers=auth
        )
        assert assert_problem(response, 422)["errors"][0]["loc"] == [
            "body",
            "overrides",
            0,
            "value",
        ]

    async def test_same_scenario_again_changes_nothing(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await save(client, auth)
        since = await last_change_id(session)
        response = await client.put(f"{URL}/zb-licence", json=body_without_id(), headers=auth)
        assert response.status_code == 200
        assert await changes_since(client, since) == []

    async def test_delete_with_if_match_and_one_change(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        etag = (await save(client, auth)).headers["etag"]
        assert_problem(await client.delete(f"{URL}/zb-licence"), 401)
        stale = await client.delete(f"{URL}/zb-licence", headers={**auth, "If-Match": '"x"'})
        assert_problem(stale, 412)
        since = await last_change_id(session)
        response = await client.delete(f"{URL}/zb-licence", headers={**auth, "If-Match": etag})
        assert response.status_code == 204
        assert_problem(await client.get(f"{URL}/zb-licence"), 404)
        [change] = await changes_since(client, since)
        assert {k: change[k] for k in ("actor", "entity", "entity_key", "action", "after")} == {
            "actor": key.id,
            "entity": "scenario",
            "entity_key": "zb-licence",
            "action": "delete",
            "after": None,
        }
        assert change["before"] == READ
        assert_problem(await client.delete(f"{URL}/zb-licence", headers=auth), 404)
        feed = await client.get("/v1/changes", params={"since": since, "entity": "scenario"})
        assert [c["action"] for c in feed.json()["items"]] == ["delete"]

    async def test_deleting_the_jurisdiction_needs_cascade_and_records_the_scenario(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await save(client, auth)
        refused = assert_problem(await client.delete("/v1/jurisdictions/ZB", headers=auth), 409)
        assert "1 scenarios" in refused["detail"]
        admin = bearer(await create_api_key(session, "admin"))
        since = await last_change_id(session)
        response = await client.delete("/v1/jurisdictions/ZB?cascade=true", headers=admin)
        assert response.status_code == 204
        removed = [
            (c["entity"], c["entity_key"])
            for c in await changes_since(client, since)
            if c["entity"] == "scenario"
        ]
        assert removed == [("scenario", "zb-licence")]
        assert_problem(await client.get(f"{URL}/zb-licence"), 404)


@pytest.mark.usefixtures("world")
class TestListScenarios:
    async def test_filters_pages_and_csv(self, client: AsyncClient, auth: dict[str, str]) -> None:
        await save(client, auth)
        await save(client, auth, id="xa-none", jurisdiction="XA", overrides=[])
        listing = (await client.get(URL, params={"index": "ZZ_INDEX"})).json()
        assert [s["id"] for s in listing["items"]] == ["xa-none", "zb-licence"]
        only_zb = (await client.get(URL, params={"jurisdiction": "zb"})).json()
        assert only_zb["items"] == [READ]
        first = await client.get(URL, params={"index": "zz_index", "limit": 1})
        assert [s["id"] for s in first.json()["items"]] == ["xa-none"]
        assert 'rel="next"' in first.headers["link"]
        second = await client.get(
            URL,
            params={"index": "zz_index", "limit": 1, "cursor": first.json()["next_cursor"]},
        )
        assert [s["id"] for s in second.json()["items"]] == ["zb-licence"]
        assert second.json()["next_cursor"] is None
        as_csv = await client.get(URL, params={"jurisdiction": "ZB", "format": "csv"})
        assert as_csv.headers["content-type"].startswith("text/csv")
        [row] = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert list(row) == [
            "id",
            "name",
            "index",
            "jurisdiction",
            "overrides",
            "weights",
            "description",
            "rationale",
            "source_ids",
        ]
        assert (row["id"], row["jurisdiction"], row["source_ids"]) == ("zb-licence", "ZB", "zz-law")
        assert "zz_regime" in row["overrides"]

    async def test_unknown_filters_are_404(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get(URL, params={"jurisdiction": "QQ"}), 404)
        assert body["detail"] == "No jurisdiction with code 'QQ'."
        body = assert_problem(await client.get(URL, params={"index": "nope"}), 404)
        assert body["detail"] == "No index with key 'nope'."
        assert_problem(await client.get(URL, params={"jurisdiction": "not a code"}), 422)


@pytest.mark.usefixtures("world")
class TestScenarioEvaluation:
    async def test_hand_computed(self, client: AsyncClient, auth: dict[str, str]) -> None:
        await save(client, auth)
        response = await client.get(
            f"{URL}/zb-licence/evaluation", params={"as_of": "2025-01-01", "peers": "XA,ZC"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        # Tax bounds become 5..10: ZB 1.0, XA 0.0. ZB = 100*(0.5 + 0.25 + 0) = 75 and
        # XA = 100*(0.5 + 0 + 0.25) = 75: they share first place. ZC keeps 0.
        assert (body["id"], body["name"], body["jurisdiction_name"]) == (
            "zb-licence",
            SCENARIO["name"],
            "Zedland B",
        )
        assert (body["index"], body["as_of"]) == ("zz_index", "2025-01-01")
        assert body["baseline"] == {"score": 30.0, "rank": 2, "coverage": 1.0}
        assert body["scenario"] == {"score": pytest.approx(75.0), "rank": 1, "coverage": 1.0}
        assert (body["score_delta"], body["rank_delta"]) == (pytest.approx(45.0), -1)
        assert [c["key"] for c in body["changed_components"]] == ["zz_regime", "zz_tax"]
        assert body["changed_components"][1]["scenario"] == {
            "raw": 5,
            "normalized": 1.0,
            "contribution": 25.0,
        }
        assert body["unused_overrides"] == [
            {"key": "zz_retail", "kind": "feature", "value": True, "reason": "not_in_index"}
        ]
        assert body["peers"] == [
            {
                "code": "XA",
                "name": "Zedland A",
                "baseline": {"score": 100.0, "rank": 1, "coverage": 1.0},
                "scenario": {"score": pytest.approx(75.0), "rank": 1, "coverage": 1.0},
            },
            {
                "code": "ZC",
                "name": "Zedland C",
                # Half its weight known: below the default min_coverage (0.8), unranked.
                "baseline": {"score": None, "rank": None, "coverage": 0.5},
                "scenario": {"score": None, "rank": None, "coverage": 0.5},
            },
        ]

    async def test_as_of_reads_the_data_of_that_day(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        await save(client, auth)
        body = (
            await client.get(
                f"{URL}/zb-licence/evaluation", params={"as_of": "2024-01-01", "peers": "XA"}
            )
        ).json()
        # On 2024-01-01 only ZB's 2023 firms count (5) has ended: alone, it scores 1.0, and XA
        # has no firms value (coverage 0.75). ZB = 100*(0.3 + 0 + 0.25) = 55, XA 100; with
        # the overrides ZB = 100*(0.5 + 0.25 + 0.25) = 100 and XA = 100*0.5/0.75 = 66.7. XA's
        # coverage is under the default min_coverage (0.8): listed unranked, ZB ranks first.
        assert body["baseline"] == {"score": pytest.approx(55.0), "rank": 1, "coverage": 1.0}
        assert body["scenario"] == {"score": pytest.approx(100.0), "rank": 1, "coverage": 1.0}
        [za] = body["peers"]
        assert za["baseline"] == {"score": None, "rank": None, "coverage": 0.75}
        assert za["scenario"] == {"score": None, "rank": None, "coverage": 0.75}

    async def test_overrides_already_in_force_are_unused(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        overrides = [
            {"feature": "zz_tax", "value": 20},
            {"feature": "zz_regime", "value": "registration"},
            {"metric": "zz_firms", "value": 7},
        ]
        await save(client, auth, overrides=overrides)
        body = (
            await client.get(
                f"{URL}/zb-licence/evaluation", params={"as_of": "2025-01-01", "peers": "XA"}
            )
        ).json()
        assert (body["score_delta"], body["rank_delta"], body["changed_components"]) == (0.0, 0, [])
        assert [(u["key"], u["kind"], u["reason"]) for u in body["unused_overrides"]] == [
            ("zz_tax", "feature", "already_in_force"),
            ("zz_regime", "feature", "already_in_force"),
            ("zz_firms", "metric", "already_in_force"),
        ]

    async def test_default_peers_are_the_articles(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        await save(client, auth)
        body = (await client.get(f"{URL}/zb-licence/evaluation")).json()
        assert [p["code"] for p in body["peers"]] == ["AE-DU", "SG", "US"]
        # They have no zz values: unscored before and after.
        assert body["peers"][0]["baseline"] == {"score": None, "rank": None, "coverage": 0.0}

    async def test_peers_errors(self, client: AsyncClient, auth: dict[str, str]) -> None:
        await save(client, auth)
        body = assert_problem(
            await client.get(f"{URL}/zb-licence/evaluation", params={"peers": "XA,QQ"}), 404
        )
        assert body["detail"] == "No jurisdiction with code 'QQ'."
        bad = assert_problem(
            await client.get(f"{URL}/zb-licence/evaluation", params={"peers": "Z!"}), 422
        )
        assert bad["errors"][0]["loc"] == ["query", "peers"]
        own = (await client.get(f"{URL}/zb-licence/evaluation", params={"peers": "ZB,XA"})).json()
        assert [p["code"] for p in own["peers"]] == ["XA"]
        assert_problem(await client.get(f"{URL}/nope/evaluation"), 404)

    async def test_follows_the_data(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        """Re-evaluated on today's data: a value written after saving changes the answer."""
        await save(client, auth)
        params = {"as_of": "2025-06-01", "peers": "XA"}
        before = (await client.get(f"{URL}/zb-licence/evaluation", params=params)).json()
        write = await client.put(
            "/v1/jurisdictions/ZB/features/zz_regime",
            json={
                "value": "licence",
                "valid_from": "2025-02-01",
                "confidence": "verified",
                "source_ids": ["zz-law"],
            },
            headers=auth,
        )
        assert write.status_code in (200, 201), write.text
        after = (await client.get(f"{URL}/zb-licence/evaluation", params=params)).json()
        assert before["baseline"]["score"] == 30.0
        assert after["baseline"]["score"] == pytest.approx(50.0)
        assert [u["key"] for u in after["unused_overrides"]] == ["zz_regime", "zz_retail"]


class TestBundledScenarios:
    async def test_the_articles_six_scenarios_are_bundled(self, client: AsyncClient) -> None:
        listing = (await client.get(URL, params={"jurisdiction": "HK"})).json()
        ids = {s["id"] for s in listing["items"]}
        assert {
            "hk-3d-token-classification",
            "hk-dual-sandboxes",
            "hk-compliance-technology",
            "hk-tax-and-talent",
            "hk-greater-bay-area-links",
            "hk-all-five-recommendations",
        } <= ids
        for scenario in listing["items"]:
            assert "hk-dotdotnews-column-2025" in scenario["source_ids"]
            assert scenario["rationale"] and scenario["description"]
        compliance = (await client.get(f"{URL}/hk-compliance-technology")).json()
        assert compliance["overrides"] == []
        assert "cannot measure" in compliance["description"]

    async def test_seed_loads_them_once(self, scratch_database: str) -> None:
        first = await loader.seed_async(scratch_database)
        assert first is not None
        assert first.counts["scenarios"].created == 6
        again = await loader.seed_async(scratch_database)
        assert again is not None
        assert again.counts["scenarios"].unchanged == 6
        assert again.changed == 0
        exported = await loader.export_async(scratch_database)
        assert [s.id for s in exported.scenarios] == sorted(
            s.id for s in loader.bundled_dataset().scenarios
        )
