"""PUT /v1/features/{key} and PUT /v1/jurisdictions/{code}/features/{key}: definitions, and a
jurisdiction's value over time (history kept, never overwritten)."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.periods import today
from app.keys.schemas import KeyCreated
from tests.compare.fixtures import REGIME
from tests.factories import create_feature, create_feature_value, create_jurisdiction, create_source
from tests.keys.helpers import (
    assert_created,
    assert_read_matches,
    bearer,
    changes_since,
    create_api_key,
    last_change_id,
)
from tests.test_errors import assert_problem

FEATURE: dict[str, Any] = {
    "name": "Retail trading allowed",
    "category": "market_access",
    "value_type": "boolean",
    "unit": None,
    "allowed_values": None,
    "higher_is_better": True,
    "description": "Retail investors may trade.",
    "inherits": True,
    "reaches_special_zones": True,
}
VALUE_PATH = "/v1/jurisdictions/XA/features/zz_retail"


@pytest.fixture
async def key(session: AsyncSession) -> KeyCreated:
    return await create_api_key(session, "write")


@pytest.fixture
def auth(key: KeyCreated) -> dict[str, str]:
    return bearer(key)


def value(v: Any, valid_from: str, *, valid_to: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "value": v,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "note": None,
        "source_ids": ["zz-law"],
        "confidence": "verified",
        "checked_on": "2026-11-20",
    } | fields


def interval(body: dict[str, Any]) -> tuple[Any, str, str | None]:
    return body["value"], body["valid_from"], body["valid_to"]


@pytest.fixture
async def land(session: AsyncSession) -> None:
    """XA, the source zz-law and a boolean feature zz_retail without values."""
    await create_jurisdiction(session, "XA")
    await create_source(session, "zz-law")
    await create_feature(session, "zz_retail")


class TestPutFeature:
    async def test_creates_with_location_and_etag(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        response = await client.put("/v1/features/ZZ_RETAIL", json=FEATURE, headers=auth)
        assert response.status_code == 201
        assert response.headers["location"] == "/v1/features/zz_retail"
        assert response.json() == {"key": "zz_retail", **FEATURE}
        await assert_read_matches(client, "/v1/features/zz_retail", response)
        await assert_created(
            client,
            since,
            actor=key.id,
            entity="feature",
            entity_key="zz_retail",
            after={"key": "zz_retail", **FEATURE},
        )

    async def test_replaces_the_definition(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.put("/v1/features/zz_retail", json=FEATURE, headers=auth)
        since = await last_change_id(session)
        new = {**FEATURE, "name": "Retail allowed", "description": None}
        response = await client.put("/v1/features/zz_retail", json=new, headers=auth)
        assert response.status_code == 200
        assert response.json() == {"key": "zz_retail", **new}
        read = await client.get("/v1/features/zz_retail")
        assert read.headers["etag"] == response.headers["etag"]
        [change] = await changes_since(client, since)
        assert change["action"] == "update"
        assert (change["before"]["name"], change["after"]["name"]) == (
            "Retail trading allowed",
            "Retail allowed",
        )

    async def test_same_definition_again_changes_nothing(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.put("/v1/features/zz_retail", json=FEATURE, headers=auth)
        since = await last_change_id(session)
        response = await client.put("/v1/features/zz_retail", json=FEATURE, headers=auth)
        assert response.status_code == 200
        assert await changes_since(client, since) == []

    async def test_enum_with_allowed_values(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        body = {
            **FEATURE,
            "category": "licensing",
            "value_type": "enum",
            "allowed_values": REGIME,
            "higher_is_better": None,
        }
        response = await client.put("/v1/features/zz_regime", json=body, headers=auth)
        assert response.status_code == 201
        assert response.json()["allowed_values"] == REGIME

    @pytest.mark.parametrize(
        ("change", "loc"),
        [
            ({"value_type": "enum", "higher_is_better": None}, ["body"]),
            ({"allowed_values": REGIME}, ["body"]),
            ({"value_type": "text"}, ["body"]),
            ({"category": "astrology"}, ["body", "category"]),
            ({"value_type": "colour"}, ["body", "value_type"]),
            ({"higher_is_better": "perhaps"}, ["body", "higher_is_better"]),
            ({"name": "  "}, ["body", "name"]),
            (
                {
                    "value_type": "enum",
                    "higher_is_better": None,
                    "allowed_values": [{"value": "a", "label": "A", "score": 2}],
                },
                ["body", "allowed_values", 0, "score"],
            ),
            (
                {
                    "value_type": "enum",
                    "higher_is_better": None,
                    "allowed_values": [REGIME[0], REGIME[0]],
                },
                ["body"],
            ),
            ({"extra": True}, ["body", "extra"]),
        ],
        ids=[
            "enum-without-options",
            "options-on-boolean",
            "direction-on-text",
            "category",
            "value-type",
            "direction-type",
            "blank-name",
            "option-score",
            "option-twice",
            "extra-field",
        ],
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
        response = await client.put("/v1/features/zz_new", json={**FEATURE, **change}, headers=auth)
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [loc]
        assert_problem(await client.get("/v1/features/zz_new"), 404)
        assert await changes_since(client, since) == []

    async def test_bad_key_in_path_is_422(self, client: AsyncClient, auth: dict[str, str]) -> None:
        body = assert_problem(
            await client.put("/v1/features/zz-retail", json=FEATURE, headers=auth), 422
        )
        assert [e["loc"] for e in body["errors"]] == [["path", "key"]]

    async def test_redefinition_must_fit_stored_values(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        xa = await create_jurisdiction(session, "XA")
        law = await create_source(session, "zz-law")
        feature = await create_feature(session, "zz_retail")
        await create_feature_value(session, xa, feature, True, sources=[law])
        since = await last_change_id(session)
        enum = {
            **FEATURE,
            "value_type": "enum",
            "higher_is_better": None,
            "allowed_values": [{"value": "yes", "label": "Yes", "score": 1}],
        }
        response = await client.put("/v1/features/zz_retail", json=enum, headers=auth)
        body = assert_problem(response, 422)
        assert body["errors"] == [
            {
                "loc": ["body", "value_type"],
                "msg": "the stored value of XA from 2020-01-01 no longer fits: "
                "True is not one of the allowed values ['yes']",
                "type": "invalid",
            }
        ]
        assert (await client.get("/v1/features/zz_retail")).json()["value_type"] == "boolean"
        assert await changes_since(client, since) == []

    async def test_redefinition_that_fits_stored_values_is_accepted(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        xa = await create_jurisdiction(session, "XA")
        regime = await create_feature(
            session, "zz_regime", value_type="enum", category="licensing", allowed_values=REGIME
        )
        law = await create_source(session, "zz-law")
        await create_feature_value(session, xa, regime, "none", sources=[law])
        options = [*REGIME, {"value": "sandbox", "label": "Sandbox", "score": 0.8}]
        response = await client.put(
            "/v1/features/zz_regime",
            json={
                **FEATURE,
                "category": "licensing",
                "value_type": "enum",
                "higher_is_better": None,
                "allowed_values": options,
            },
            headers=auth,
        )
        assert response.status_code == 200
        assert response.json()["allowed_values"] == options

    async def test_stale_if_match_is_412(self, client: AsyncClient, auth: dict[str, str]) -> None:
        stale = (await client.put("/v1/features/zz_retail", json=FEATURE, headers=auth)).headers[
            "etag"
        ]
        await client.put("/v1/features/zz_retail", json={**FEATURE, "name": "First"}, headers=auth)
        response = await client.put(
            "/v1/features/zz_retail",
            json={**FEATURE, "name": "Second"},
            headers={**auth, "If-Match": stale},
        )
        assert_problem(response, 412)
        assert (await client.get("/v1/features/zz_retail")).json()["name"] == "First"


@pytest.mark.usefixtures("land")
class TestSetJurisdictionFeature:
    async def test_checked_on_defaults_to_the_day_written_and_cannot_be_in_the_future(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        future = value(True, "2020-01-01", checked_on="2999-01-01")
        body = assert_problem(await client.put(VALUE_PATH, json=future, headers=auth), 422)
        assert [e["loc"] for e in body["errors"]] == [["body", "checked_on"]]
        assert await changes_since(client, since) == []
        unstated = {k: v for k, v in value(True, "2020-01-01").items() if k != "checked_on"}
        response = await client.put(VALUE_PATH, json=unstated, headers=auth)
        assert response.status_code == 201, response.text
        assert response.json()["in_force"]["checked_on"] == today().isoformat()

    async def test_first_value_opens_an_interval(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        response = await client.put(
            "/v1/jurisdictions/xa/features/ZZ_RETAIL",
            json=value(True, "2020-01-01", note="Act in force.", source_ids=["zz-law", "zz-law"]),
            headers=auth,
        )
        assert response.status_code == 201
        stored = {
            "jurisdiction_code": "XA",
            "feature_key": "zz_retail",
            "category": "market_access",
            "value_type": "boolean",
            "value": True,
            "score": 1.0,
            "valid_from": "2020-01-01",
            "valid_to": None,
            "note": "Act in force.",
            "source_ids": ["zz-law"],
            "confidence": "verified",
            "checked_on": "2026-11-20",
            "inherited_from": None,
        }
        assert response.json() == {
            "jurisdiction_code": "XA",
            "feature_key": "zz_retail",
            "in_force": stored,
            "history": [stored],
        }
        await assert_read_matches(client, VALUE_PATH, response)
        await assert_created(
            client,
            since,
            actor=key.id,
            entity="feature_value",
            entity_key="XA:zz_retail",
            after=[
                {
                    "jurisdiction_code": "XA",
                    "feature_key": "zz_retail",
                    "value": True,
                    "valid_from": "2020-01-01",
                    "valid_to": None,
                    "note": "Act in force.",
                    "source_ids": ["zz-law"],
                    "confidence": "verified",
                    "checked_on": "2026-11-20",
                }
            ],
        )

    async def test_created_answer_has_a_location(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        response = await client.put(VALUE_PATH, json=value(True, "2020-01-01"), headers=auth)
        assert response.status_code == 201
        assert response.headers["location"] == VALUE_PATH

    async def test_a_sequence_of_values_keeps_the_history(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        for v, start in ((False, "2020-01-01"), (True, "2022-07-01"), (False, "2024-03-15")):
            response = await client.put(VALUE_PATH, json=value(v, start), headers=auth)
            assert response.status_code == 201, response.text

        body = (await client.get(VALUE_PATH)).json()
        assert [interval(v) for v in body["history"]] == [
            (False, "2020-01-01", "2022-07-01"),
            (True, "2022-07-01", "2024-03-15"),
            (False, "2024-03-15", None),
        ]
        assert interval(body["in_force"]) == (False, "2024-03-15", None)
        for as_of, expected in (
            ("2019-12-31", []),
            ("2020-01-01", [(False, "2020-01-01", "2022-07-01")]),
            ("2022-06-30", [(False, "2020-01-01", "2022-07-01")]),
            ("2022-07-01", [(True, "2022-07-01", "2024-03-15")]),
            ("2024-03-14", [(True, "2022-07-01", "2024-03-15")]),
            ("2024-03-15", [(False, "2024-03-15", None)]),
        ):
            by_land = await client.get("/v1/jurisdictions/XA/features", params={"as_of": as_of})
            assert [interval(v) for v in by_land.json()["items"]] == expected, as_of
            by_feature = await client.get(
                "/v1/features/zz_retail/values", params={"as_of": as_of, "jurisdictions": "XA"}
            )
            assert [interval(v) for v in by_feature.json()["items"]] == expected, as_of

    async def test_closing_an_interval_is_one_change_of_the_history(
        self, client: AsyncClient, session: AsyncSession, key: KeyCreated, auth: dict[str, str]
    ) -> None:
        await client.put(VALUE_PATH, json=value(False, "2020-01-01"), headers=auth)
        since = await last_change_id(session)
        await client.put(VALUE_PATH, json=value(True, "2022-01-01"), headers=auth)
        [change] = await changes_since(client, since)
        assert {k: change[k] for k in ("actor", "entity", "entity_key", "action")} == {
            "actor": key.id,
            "entity": "feature_value",
            "entity_key": "XA:zz_retail",
            "action": "update",
        }

        def record(v: bool, start: str, end: str | None) -> dict[str, Any]:
            return {"jurisdiction_code": "XA", "feature_key": "zz_retail"} | value(
                v, start, valid_to=end
            )

        assert change["before"] == [record(False, "2020-01-01", None)]
        assert change["after"] == [
            record(False, "2020-01-01", "2022-01-01"),
            record(True, "2022-01-01", None),
        ]

    async def test_same_interval_again_is_200_and_changes_nothing(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        first = await client.put(VALUE_PATH, json=value(True, "2020-01-01"), headers=auth)
        since = await last_change_id(session)
        again = await client.put(VALUE_PATH, json=value(True, "2020-01-01"), headers=auth)
        assert again.status_code == 200
        assert again.json() == first.json()
        assert again.headers["etag"] == first.headers["etag"]
        assert await changes_since(client, since) == []

    async def test_another_value_on_the_same_day_is_409(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.put(VALUE_PATH, json=value(True, "2020-01-01"), headers=auth)
        since = await last_change_id(session)
        for change in ({"value": False}, {"confidence": "reported"}, {"note": "Changed."}):
            response = await client.put(
                VALUE_PATH, json=value(True, "2020-01-01") | change, headers=auth
            )
            body = assert_problem(response, 409)
            assert body["detail"] == (
                "An interval of zz_retail for XA already starts on 2020-01-01; history is not "
                "overwritten: use a later valid_from."
            )
        history = (await client.get(VALUE_PATH)).json()["history"]
        assert [interval(v) for v in history] == [(True, "2020-01-01", None)]
        assert await changes_since(client, since) == []

    async def test_an_earlier_open_interval_overlapping_a_later_one_is_409(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.put(VALUE_PATH, json=value(True, "2022-01-01"), headers=auth)
        since = await last_change_id(session)
        for valid_to in (None, "2022-01-02"):
            response = await client.put(
                VALUE_PATH, json=value(False, "2020-01-01", valid_to=valid_to), headers=auth
            )
            body = assert_problem(response, 409)
            assert body["detail"] == (
                "A later interval starts on 2022-01-01; set valid_to on or before that day to "
                "insert an earlier one."
            )
        assert await changes_since(client, since) == []

    async def test_an_earlier_interval_closed_in_time_is_inserted(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        await client.put(VALUE_PATH, json=value(True, "2022-01-01"), headers=auth)
        response = await client.put(
            VALUE_PATH, json=value(False, "2020-01-01", valid_to="2022-01-01"), headers=auth
        )
        assert response.status_code == 201
        assert [interval(v) for v in response.json()["history"]] == [
            (False, "2020-01-01", "2022-01-01"),
            (True, "2022-01-01", None),
        ]

    async def test_a_value_inside_a_closed_interval_splits_it(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        await client.put(
            VALUE_PATH, json=value(False, "2020-01-01", valid_to="2022-01-01"), headers=auth
        )
        response = await client.put(
            VALUE_PATH, json=value(True, "2021-01-01", valid_to="2022-01-01"), headers=auth
        )
        assert response.status_code == 201
        assert [interval(v) for v in response.json()["history"]] == [
            (False, "2020-01-01", "2021-01-01"),
            (True, "2021-01-01", "2022-01-01"),
        ]

    async def test_current_if_match_is_accepted_and_stale_is_412(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        etag = (await client.get(VALUE_PATH)).headers["etag"]
        response = await client.put(
            VALUE_PATH, json=value(True, "2020-01-01"), headers={**auth, "If-Match": etag}
        )
        assert response.status_code == 201
        since = await last_change_id(session)
        stale = await client.put(
            VALUE_PATH, json=value(False, "2022-01-01"), headers={**auth, "If-Match": etag}
        )
        assert_problem(stale, 412)
        assert len((await client.get(VALUE_PATH)).json()["history"]) == 1
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize(
        ("change", "loc", "msg"),
        [
            ({"source_ids": ["zz-nope"]}, ["body", "source_ids"], "unknown source 'zz-nope'"),
            (
                {"valid_to": "2020-01-01"},
                ["body"],
                "Value error, valid_to must be after valid_from (intervals are [from, to))",
            ),
            (
                {"valid_to": "2019-06-01"},
                ["body"],
                "Value error, valid_to must be after valid_from (intervals are [from, to))",
            ),
            ({"confidence": "certain"}, ["body", "confidence"], None),
            ({"source_ids": []}, ["body", "source_ids"], None),
            ({"valid_from": "2020-02-30"}, ["body", "valid_from"], None),
            ({"extra": 1}, ["body", "extra"], "Extra inputs are not permitted"),
        ],
        ids=[
            "unknown-source",
            "empty-interval",
            "reversed-interval",
            "confidence",
            "no-source",
            "bad-date",
            "extra-field",
        ],
    )
    async def test_invalid_value_record_is_422_and_stores_nothing(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        change: dict[str, Any],
        loc: list[str | int],
        msg: str | None,
    ) -> None:
        since = await last_change_id(session)
        response = await client.put(
            VALUE_PATH, json=value(True, "2020-01-01") | change, headers=auth
        )
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [loc]
        if msg is not None:
            assert body["errors"][0]["msg"] == msg
        assert (await client.get(VALUE_PATH)).json()["history"] == []
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize(
        ("value_type", "bad"),
        [
            ("boolean", "yes"),
            ("boolean", 1),
            ("boolean", None),
            ("enum", "maybe"),
            ("enum", 1),
            ("percent", "ten"),
            ("percent", True),
            ("integer", 1.5),
            ("number", [1]),
            ("date", "2024-13-01"),
            ("date", "yesterday"),
            ("date", 20240101),
            ("text", ""),
            ("text", 5),
        ],
    )
    async def test_value_of_the_wrong_type_is_422(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        value_type: str,
        bad: Any,
    ) -> None:
        await create_feature(
            session,
            "zz_typed",
            value_type=value_type,
            allowed_values=REGIME if value_type == "enum" else None,
        )
        since = await last_change_id(session)
        path = "/v1/jurisdictions/XA/features/zz_typed"
        response = await client.put(path, json=value(bad, "2020-01-01"), headers=auth)
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [["body", "value"]]
        assert (await client.get(path)).json()["history"] == []
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize(
        ("value_type", "good", "stored"),
        [
            ("enum", "licence", "licence"),
            ("percent", 16.5, 16.5),
            ("integer", 12, 12),
            ("number", -3.25, -3.25),
            ("date", "2024-02-29", "2024-02-29"),
            ("text", "Sandbox since 2019.", "Sandbox since 2019."),
        ],
    )
    async def test_value_of_each_type_is_stored_as_sent(
        self,
        client: AsyncClient,
        session: AsyncSession,
        auth: dict[str, str],
        value_type: str,
        good: Any,
        stored: Any,
    ) -> None:
        await create_feature(
            session,
            "zz_typed",
            value_type=value_type,
            allowed_values=REGIME if value_type == "enum" else None,
        )
        path = "/v1/jurisdictions/XA/features/zz_typed"
        response = await client.put(path, json=value(good, "2020-01-01"), headers=auth)
        assert response.status_code == 201
        assert response.json()["in_force"]["value"] == stored

    @pytest.mark.parametrize(
        ("path", "status", "detail"),
        [
            ("/v1/jurisdictions/ZQ/features/zz_retail", 404, "No jurisdiction with code 'ZQ'."),
            ("/v1/jurisdictions/XA/features/zz_nope", 404, "No feature with key 'zz_nope'."),
        ],
    )
    async def test_unknown_code_or_key_is_404(
        self, client: AsyncClient, auth: dict[str, str], path: str, status: int, detail: str
    ) -> None:
        response = await client.put(path, json=value(True, "2020-01-01"), headers=auth)
        assert assert_problem(response, status)["detail"] == detail

    async def test_bad_code_in_path_is_422(self, client: AsyncClient, auth: dict[str, str]) -> None:
        response = await client.put(
            "/v1/jurisdictions/Z_A/features/zz_retail", json=value(True, "2020-01-01"), headers=auth
        )
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [["path", "code"]]

    async def test_malformed_json_is_400(self, client: AsyncClient, auth: dict[str, str]) -> None:
        response = await client.put(
            VALUE_PATH,
            content=b"{value: true}",
            headers={**auth, "content-type": "application/json"},
        )
        assert_problem(response, 400)
