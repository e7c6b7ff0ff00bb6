"""PUT /v1/metrics/{key} and POST /v1/metrics/{key}/observations (batch upsert)."""

import json
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.keys.schemas import KeyCreated
from tests.factories import create_jurisdiction, create_metric, create_observation, create_source
from tests.keys.helpers import (
    assert_created,
    assert_read_matches,
    bearer,
    changes_since,
    create_api_key,
    last_change_id,
)
from tests.test_errors import assert_problem

METRIC: dict[str, Any] = {
    "name": "Licensed firms",
    "unit": "count",
    "description": "Licensed virtual-asset service providers.",
    "higher_is_better": True,
    "frequency": "annual",
    "bilateral": False,
}
OBSERVATIONS = "/v1/metrics/zz_firms/observations"


@pytest.fixture
async def key(session: AsyncSession) -> KeyCreated:
    return await create_api_key(session, "write")


@pytest.fixture
def auth(key: KeyCreated) -> dict[str, str]:
    return bearer(key)


@pytest.fixture
async def world(session: AsyncSession) -> None:
    """XA, ZB, the source zz-law, the metric zz_firms and the bilateral metric zz_flow."""
    await create_jurisdiction(session, "XA")
    await create_jurisdiction(session, "ZB")
    await create_source(session, "zz-law")
    await create_metric(session, "zz_firms")
    await create_metric(session, "zz_flow", unit="percent", bilateral=True)


def obs(code: str, period: str, value: object, **fields: Any) -> dict[str, Any]:
    return {
        "jurisdiction_code": code,
        "period": period,
        "value": value,
        "counterpart_code": None,
        "source_ids": ["zz-law"],
        "confidence": "verified",
        "checked_on": "2026-11-20",
        "note": None,
    } | fields


async def _stored(client: AsyncClient, path: str = OBSERVATIONS) -> list[tuple[Any, ...]]:
    items = (await client.get(path)).json()["items"]
    return [(o["jurisdiction_code"], o["period"], o["value"], o["counterpart_code"]) for o in items]


class TestPutMetric:
    async def test_creates_with_location_etag_and_change(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        response = await client.put("/v1/metrics/ZZ_FIRMS", json=METRIC, headers=auth)
        assert response.status_code == 201
        assert response.headers["location"] == "/v1/metrics/zz_firms"
        assert response.json() == {"key": "zz_firms", **METRIC}
        await assert_read_matches(client, "/v1/metrics/zz_firms", response)
        await assert_created(
            client,
            since,
            actor=key.id,
            entity="metric",
            entity_key="zz_firms",
            after={"key": "zz_firms", **METRIC},
        )

    async def test_replaces_the_definition(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.put("/v1/metrics/zz_firms", json=METRIC, headers=auth)
        since = await last_change_id(session)
        new = {**METRIC, "frequency": "quarterly", "description": None}
        response = await client.put("/v1/metrics/zz_firms", json=new, headers=auth)
        assert response.status_code == 200
        assert response.json() == {"key": "zz_firms", **new}
        assert (await client.get("/v1/metrics/zz_firms")).headers["etag"] == response.headers[
            "etag"
        ]
        [change] = await changes_since(client, since)
        assert (change["action"], change["before"]["frequency"], change["after"]) == (
            "update",
            "annual",
            {"key": "zz_firms", **new},
        )

    async def test_same_definition_again_changes_nothing(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.put("/v1/metrics/zz_firms", json=METRIC, headers=auth)
        since = await last_change_id(session)
        assert (
            await client.put("/v1/metrics/zz_firms", json=METRIC, headers=auth)
        ).status_code == 200
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize(
        ("change", "loc"),
        [
            ({"frequency": "hourly"}, ["body", "frequency"]),
            ({"bilateral": "sometimes"}, ["body", "bilateral"]),
            ({"name": ""}, ["body", "name"]),
            ({"key": "zz_other"}, ["body", "key"]),
        ],
        ids=["frequency", "bilateral", "empty-name", "extra-field"],
    )
    async def test_invalid_definition_is_422_and_stores_nothing(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        change: dict[str, Any],
        loc: list[str | int],
    ) -> None:
        since = await last_change_id(session)
        response = await client.put("/v1/metrics/zz_new", json={**METRIC, **change}, headers=auth)
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [loc]
        assert_problem(await client.get("/v1/metrics/zz_new"), 404)
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize(
        "change", [{"bilateral": 0}, {"higher_is_better": "yes"}], ids=["number", "word"]
    )
    async def test_boolean_fields_refuse_numbers_and_words(
        self, client: AsyncClient, auth: dict[str, str], change: dict[str, Any]
    ) -> None:
        response = await client.put("/v1/metrics/zz_new", json={**METRIC, **change}, headers=auth)
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [["body", *change]]

    async def test_missing_frequency_is_422(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        body = {k: v for k, v in METRIC.items() if k != "frequency"}
        problem = assert_problem(
            await client.put("/v1/metrics/zz_new", json=body, headers=auth), 422
        )
        assert [e["loc"] for e in problem["errors"]] == [["body", "frequency"]]

    async def test_bad_key_in_path_is_422(self, client: AsyncClient, auth: dict[str, str]) -> None:
        body = assert_problem(
            await client.put("/v1/metrics/1firms", json=METRIC, headers=auth), 422
        )
        assert [e["loc"] for e in body["errors"]] == [["path", "key"]]

    async def test_stale_if_match_is_412(self, client: AsyncClient, auth: dict[str, str]) -> None:
        stale = (await client.put("/v1/metrics/zz_firms", json=METRIC, headers=auth)).headers[
            "etag"
        ]
        await client.put("/v1/metrics/zz_firms", json={**METRIC, "name": "First"}, headers=auth)
        response = await client.put(
            "/v1/metrics/zz_firms",
            json={**METRIC, "name": "Second"},
            headers={**auth, "If-Match": stale},
        )
        assert_problem(response, 412)
        assert (await client.get("/v1/metrics/zz_firms")).json()["name"] == "First"

    @pytest.mark.parametrize(
        ("metric_key", "bilateral", "msg"),
        [
            (
                "zz_firms",
                True,
                "observations without a counterpart are stored for 'zz_firms'; "
                "they would no longer fit",
            ),
            (
                "zz_flow",
                False,
                "observations with a counterpart are stored for 'zz_flow'; "
                "they would no longer fit",
            ),
        ],
        ids=["to-bilateral", "to-unilateral"],
    )
    async def test_redefinition_must_fit_stored_observations(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        metric_key: str,
        bilateral: bool,
        msg: str,
    ) -> None:
        xa = await create_jurisdiction(session, "XA")
        zb = await create_jurisdiction(session, "ZB")
        law = await create_source(session, "zz-law")
        firms = await create_metric(session, "zz_firms")
        flow = await create_metric(session, "zz_flow", bilateral=True)
        await create_observation(session, xa, firms, "2024", 3, sources=[law])
        await create_observation(session, xa, flow, "2024", 3, counterpart=zb, sources=[law])
        since = await last_change_id(session)
        response = await client.put(
            f"/v1/metrics/{metric_key}", json={**METRIC, "bilateral": bilateral}, headers=auth
        )
        body = assert_problem(response, 422)
        assert body["errors"] == [{"loc": ["body", "bilateral"], "msg": msg, "type": "invalid"}]
        stored = (await client.get(f"/v1/metrics/{metric_key}")).json()
        assert stored["bilateral"] is not bilateral
        assert await changes_since(client, since) == []


@pytest.mark.usefixtures("world")
class TestUpsertObservations:
    async def test_creates_a_batch(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        response = await client.post(
            OBSERVATIONS,
            json={"observations": [obs("XA", "2024", 10), obs("xa", "2024-Q3", 12.5)]},
            headers=auth,
        )
        assert response.status_code == 200
        assert response.json() == {"created": 2, "updated": 0, "unchanged": 0}
        items = (await client.get(OBSERVATIONS)).json()["items"]
        assert items == [
            {
                "jurisdiction_code": "XA",
                "metric_key": "zz_firms",
                "period": "2024",
                "period_start": "2024-01-01",
                "period_end": "2024-12-31",
                "value": 10.0,
                "bound": None,
                "counterpart_code": None,
                "source_ids": ["zz-law"],
                "confidence": "verified",
                "checked_on": "2026-11-20",
                "note": None,
            },
            {
                "jurisdiction_code": "XA",
                "metric_key": "zz_firms",
                "period": "2024-Q3",
                "period_start": "2024-07-01",
                "period_end": "2024-09-30",
                "value": 12.5,
                "bound": None,
                "counterpart_code": None,
                "source_ids": ["zz-law"],
                "confidence": "verified",
                "checked_on": "2026-11-20",
                "note": None,
            },
        ]
        changes = await changes_since(client, since)
        assert [(c["entity"], c["entity_key"], c["action"], c["actor"]) for c in changes] == [
            ("observation", "XA:zz_firms:2024", "create", key.id),
            ("observation", "XA:zz_firms:2024-Q3", "create", key.id),
        ]
        assert changes[0]["after"] == {
            **obs("XA", "2024", 10.0),
            "metric_key": "zz_firms",
            "bound": None,
        }

    async def test_upserts_by_jurisdiction_period_and_counterpart(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        first = [obs("XA", "2024", 10), obs("ZB", "2024", 4)]
        await client.post(OBSERVATIONS, json={"observations": first}, headers=auth)
        since = await last_change_id(session)
        second = [obs("XA", "2024", 11, confidence="reported"), obs("ZB", "2024", 4)]
        response = await client.post(OBSERVATIONS, json={"observations": second}, headers=auth)
        assert response.json() == {"created": 0, "updated": 1, "unchanged": 1}
        assert await _stored(client) == [("XA", "2024", 11.0, None), ("ZB", "2024", 4.0, None)]
        [change] = await changes_since(client, since)
        assert (change["action"], change["entity_key"]) == ("update", "XA:zz_firms:2024")
        assert (change["before"]["value"], change["after"]["value"]) == (10.0, 11.0)

    async def test_the_same_batch_again_changes_nothing(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        batch = {"observations": [obs("XA", "2024", 10)]}
        await client.post(OBSERVATIONS, json=batch, headers=auth)
        since = await last_change_id(session)
        response = await client.post(OBSERVATIONS, json=batch, headers=auth)
        assert response.json() == {"created": 0, "updated": 0, "unchanged": 1}
        assert await changes_since(client, since) == []

    async def test_bilateral_observations_keep_their_counterpart(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        batch = [
            obs("XA", "2024", 30, counterpart_code="ZB"),
            obs("ZB", "2024", 5, counterpart_code="XA"),
        ]
        response = await client.post(
            "/v1/metrics/zz_flow/observations", json={"observations": batch}, headers=auth
        )
        assert response.json() == {"created": 2, "updated": 0, "unchanged": 0}
        assert await _stored(client, "/v1/metrics/zz_flow/observations") == [
            ("XA", "2024", 30.0, "ZB"),
            ("ZB", "2024", 5.0, "XA"),
        ]

    @pytest.mark.parametrize(
        ("path", "observation", "field", "msg"),
        [
            (
                "/v1/metrics/zz_flow/observations",
                obs("XA", "2024", 30),
                "counterpart_code",
                "metric 'zz_flow' is bilateral: a counterpart jurisdiction is required",
            ),
            (
                OBSERVATIONS,
                obs("XA", "2024", 30, counterpart_code="ZB"),
                "counterpart_code",
                "metric 'zz_firms' is not bilateral: no counterpart",
            ),
            (
                "/v1/metrics/zz_flow/observations",
                obs("XA", "2024", 30, counterpart_code="XA"),
                "counterpart_code",
                "the counterpart must differ from the jurisdiction",
            ),
            (OBSERVATIONS, obs("ZQ", "2024", 1), "jurisdiction_code", "unknown jurisdiction 'ZQ'"),
            (
                OBSERVATIONS,
                obs("XA", "2024", 1, source_ids=["zz-nope"]),
                "source_ids",
                "unknown source 'zz-nope'",
            ),
        ],
        ids=[
            "bilateral-without-counterpart",
            "counterpart-on-unilateral",
            "own-counterpart",
            "unknown-jurisdiction",
            "unknown-source",
        ],
    )
    async def test_invalid_observation_rejects_the_whole_batch(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        path: str,
        observation: dict[str, Any],
        field: str,
        msg: str,
    ) -> None:
        since = await last_change_id(session)
        batch = [
            obs("ZB", "2023", 1, counterpart_code="XA" if "flow" in path else None),
            observation,
        ]
        response = await client.post(path, json={"observations": batch}, headers=auth)
        body = assert_problem(response, 422)
        assert [(e["loc"], e["msg"]) for e in body["errors"]] == [
            (["body", "observations", 1, field], msg)
        ]
        assert await _stored(client, path) == []
        assert await changes_since(client, since) == []

    async def test_every_invalid_observation_is_named(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        batch = [
            obs("XA", "2024", 30, counterpart_code="ZB"),
            obs("ZB", "2024", 5),
            obs("ZQ", "2024", 5, counterpart_code="XA"),
        ]
        response = await client.post(
            "/v1/metrics/zz_flow/observations", json={"observations": batch}, headers=auth
        )
        body = assert_problem(response, 422)
        assert sorted(e["loc"] for e in body["errors"]) == [
            ["body", "observations", 1, "counterpart_code"],
            ["body", "observations", 2, "jurisdiction_code"],
        ]

    @pytest.mark.parametrize(
        ("observation", "loc"),
        [
            (obs("XA", "2024-13", 1), "period"),
            (obs("XA", "24", 1), "period"),
            (obs("XA", "2024", float("nan")), "value"),
            (obs("XA", "2024", "many"), "value"),
            (obs("XA", "2024", 1, confidence="sure"), "confidence"),
            (obs("Z", "2024", 1), "jurisdiction_code"),
            (obs("XA", "2024", 1, extra=1), "extra"),
        ],
        ids=["month-13", "short-year", "nan", "text-value", "confidence", "bad-code", "extra"],
    )
    async def test_malformed_observation_is_422(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        observation: dict[str, Any],
        loc: str,
    ) -> None:
        since = await last_change_id(session)
        # json.dumps writes NaN as Python's json module reads it (httpx refuses to send it).
        content = json.dumps({"observations": [obs("ZB", "2023", 1), observation]})
        response = await client.post(
            OBSERVATIONS, content=content, headers={**auth, "content-type": "application/json"}
        )
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [["body", "observations", 1, loc]]
        assert await _stored(client) == []
        assert await changes_since(client, since) == []

    async def test_empty_batch_is_422(self, client: AsyncClient, auth: dict[str, str]) -> None:
        body = assert_problem(
            await client.post(OBSERVATIONS, json={"observations": []}, headers=auth), 422
        )
        assert [e["loc"] for e in body["errors"]] == [["body", "observations"]]

    async def test_duplicate_in_the_batch_is_422(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        batch = [obs("XA", "2024", 1), obs("XA", "2024", 2)]
        response = await client.post(OBSERVATIONS, json={"observations": batch}, headers=auth)
        body = assert_problem(response, 422)
        assert body["errors"] == [
            {"loc": ["body", "observations", 1], "msg": "duplicate of record 0", "type": "invalid"}
        ]
        assert await _stored(client) == []

    async def test_unknown_metric_is_404(self, client: AsyncClient, auth: dict[str, str]) -> None:
        response = await client.post(
            "/v1/metrics/zz_nope/observations",
            json={"observations": [obs("XA", "2024", 1)]},
            headers=auth,
        )
        assert assert_problem(response, 404)["detail"] == "No metric with key 'zz_nope'."

    async def test_malformed_json_is_400(self, client: AsyncClient, auth: dict[str, str]) -> None:
        response = await client.post(
            OBSERVATIONS,
            content=b'{"observations": [',
            headers={**auth, "content-type": "application/json"},
        )
        assert_problem(response, 400)
