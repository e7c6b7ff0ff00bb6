from datetime import UTC, date, datetime
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.jurisdictions.models import Jurisdiction
from tests.factories import (
    create_feature,
    create_feature_value,
    create_jurisdiction,
    create_source,
)
from tests.test_conventions import assert_not_modified, walk_pages
from tests.test_errors import assert_problem

REGIMES = [
    {"value": "none", "label": "No regime", "score": 0.0},
    {"value": "registration", "label": "Registration only", "score": 0.5},
    {"value": "licence", "label": "Comprehensive licence", "score": 1.0},
]


async def _regime_history(session: AsyncSession) -> tuple[Jurisdiction, Jurisdiction]:
    """XA: `none` in [2019-01-01, 2023-06-01), then `licence`; ZB: `registration` since 2021.

    Only XA and ZB hold values of `zz_regime`, so its lists are fully known.
    """
    xa = await create_jurisdiction(session, "XA", name="Zedland Alpha")
    zb = await create_jurisdiction(session, "ZB", name="Zedland Beta")
    gazette = await create_source(session, "zz-gazette")
    law = await create_source(session, "zz-law")
    regime = await create_feature(
        session, "zz_regime", value_type="enum", category="licensing", allowed_values=REGIMES
    )
    await create_feature_value(
        session,
        xa,
        regime,
        "none",
        valid_from=date(2019, 1, 1),
        valid_to=date(2023, 6, 1),
        sources=[gazette],
    )
    await create_feature_value(
        session,
        xa,
        regime,
        "licence",
        valid_from=date(2023, 6, 1),
        sources=[law, gazette],
        note="Licensing in force.",
    )
    await create_feature_value(
        session,
        zb,
        regime,
        "registration",
        valid_from=date(2021, 1, 1),
        confidence="reported",
    )
    return xa, zb


def _value(code: str, value: str, valid_from: str, **fields: Any) -> dict[str, Any]:
    scores = {option["value"]: option["score"] for option in REGIMES}
    return {
        "jurisdiction_code": code,
        "feature_key": "zz_regime",
        "category": "licensing",
        "value_type": "enum",
        "value": value,
        "score": scores[value],
        "valid_from": valid_from,
        "valid_to": None,
        "note": None,
        "source_ids": [],
        "confidence": "verified",
        "checked_on": "2026-01-15",
        "inherited_from": None,
    } | fields


ZA_NONE = _value("XA", "none", "2019-01-01", valid_to="2023-06-01", source_ids=["zz-gazette"])
ZA_LICENCE = _value(
    "XA", "licence", "2023-06-01", source_ids=["zz-gazette", "zz-law"], note="Licensing in force."
)
ZB_REGISTRATION = _value("ZB", "registration", "2021-01-01", confidence="reported")


class TestListFeatures:
    async def test_filters_by_category_in_key_order_to_the_last_page(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        for key in ("zz_c", "zz_a", "zz_b"):
            await create_feature(session, key, category="privacy")
        await create_feature(session, "zz_other", category="talent")

        items, pages = await walk_pages(client, "/v1/features?category=privacy&limit=2")

        keys = [item["key"] for item in items]
        assert keys == sorted(set(keys))
        assert {item["category"] for item in items} == {"privacy"}
        assert [key for key in keys if key.startswith("zz_")] == ["zz_a", "zz_b", "zz_c"]
        assert pages == (len(items) + 1) // 2

    async def test_item_is_the_definition(self, client: AsyncClient, session: AsyncSession) -> None:
        await create_feature(session, "zz_tax_rate", value_type="percent", category="privacy")
        items, _ = await walk_pages(client, "/v1/features?category=privacy&limit=500")
        assert [item for item in items if item["key"] == "zz_tax_rate"] == [
            {
                "key": "zz_tax_rate",
                "name": "Zz tax rate",
                "category": "privacy",
                "value_type": "percent",
                "unit": None,
                "allowed_values": None,
                "higher_is_better": True,
                "description": None,
                "inherits": True,
                "reaches_special_zones": True,
            }
        ]

    async def test_unknown_category_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/features?category=astrology"), 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "category"]]

    async def test_csv_has_a_header_and_a_row_per_feature(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await create_feature(
            session, "zz_regime", value_type="enum", category="privacy", allowed_values=REGIMES
        )
        response = await client.get("/v1/features?category=privacy&format=csv&limit=500")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        lines = response.text.splitlines()
        assert lines[0] == (
            "key,name,category,value_type,unit,higher_is_better,allowed_values,description"
        )
        json_items, _ = await walk_pages(client, "/v1/features?category=privacy&limit=500")
        assert len(lines) == 1 + len(json_items)
        assert [line for line in lines if line.startswith("zz_regime,")] == [
            "zz_regime,Zz regime,privacy,enum,,,"
            '"{""label"":""No regime"",""score"":0.0,""value"":""none""};'
            '{""label"":""Registration only"",""score"":0.5,""value"":""registration""};'
            '{""label"":""Comprehensive licence"",""score"":1.0,""value"":""licence""}",'
        ]

    async def test_revalidates_with_etag(self, client: AsyncClient) -> None:
        await assert_not_modified(client, "/v1/features?category=talent")


class TestGetFeature:
    async def test_key_is_case_insensitive(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await create_feature(
            session, "zz_regime", value_type="enum", category="licensing", allowed_values=REGIMES
        )
        response = await client.get("/v1/features/ZZ_Regime")
        assert response.status_code == 200
        assert response.json() == {
            "key": "zz_regime",
            "name": "Zz regime",
            "category": "licensing",
            "value_type": "enum",
            "unit": None,
            "allowed_values": REGIMES,
            "higher_is_better": None,
            "description": None,
            "inherits": True,
            "reaches_special_zones": True,
        }

    async def test_unknown_key_is_404_naming_it(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/features/ZZ_NO_SUCH"), 404)
        assert body["detail"] == "No feature with key 'zz_no_such'."
        assert body["instance"] == "/v1/features/ZZ_NO_SUCH"

    async def test_malformed_key_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/features/not-a-key"), 422)
        assert [e["loc"] for e in body["errors"]] == [["path", "key"]]

    async def test_revalidates_with_etag(self, client: AsyncClient, session: AsyncSession) -> None:
        await create_feature(session, "zz_flag")
        await assert_not_modified(client, "/v1/features/zz_flag")


class TestListFeatureValues:
    async def test_values_in_force_today_by_code(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await _regime_history(session)
        response = await client.get("/v1/features/zz_regime/values")
        assert response.status_code == 200
        assert response.json() == {"items": [ZA_LICENCE, ZB_REGISTRATION], "next_cursor": None}
        assert "link" not in response.headers

    async def test_as_of_the_day_before_a_change_has_the_old_value(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await _regime_history(session)
        response = await client.get("/v1/features/zz_regime/values?as_of=2023-05-31")
        assert response.json()["items"] == [ZA_NONE, ZB_REGISTRATION]

    async def test_as_of_the_day_of_a_change_has_the_new_value(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        # [valid_from, valid_to): the old value ends the day before its valid_to.
        await _regime_history(session)
        response = await client.get("/v1/features/zz_regime/values?as_of=2023-06-01")
        assert response.json()["items"] == [ZA_LICENCE, ZB_REGISTRATION]

    async def test_as_of_before_any_value_is_empty(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await _regime_history(session)
        response = await client.get("/v1/features/zz_regime/values?as_of=2018-12-31")
        assert response.json() == {"items": [], "next_cursor": None}

    async def test_first_day_of_validity_is_in_force(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await _regime_history(session)
        response = await client.get("/v1/features/zz_regime/values?as_of=2019-01-01")
        assert response.json()["items"] == [ZA_NONE]

    async def test_as_of_defaults_to_today_utc(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        today = datetime.now(UTC).date()
        xa = await create_jurisdiction(session, "XA")
        flag = await create_feature(session, "zz_flag")
        await create_feature_value(session, xa, flag, False, valid_to=today)
        await create_feature_value(session, xa, flag, True, valid_from=today)
        for url in ("/v1/features/zz_flag/values", "/v1/jurisdictions/XA/features"):
            items = (await client.get(url)).json()["items"]
            assert [(v["value"], v["valid_from"], v["valid_to"]) for v in items] == [
                (True, today.isoformat(), None)
            ], url

    async def test_history_returns_every_interval(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await _regime_history(session)
        response = await client.get("/v1/features/zz_regime/values?history=true")
        assert response.json()["items"] == [ZA_NONE, ZA_LICENCE, ZB_REGISTRATION]

    async def test_history_ignores_as_of(self, client: AsyncClient, session: AsyncSession) -> None:
        await _regime_history(session)
        response = await client.get("/v1/features/zz_regime/values?history=true&as_of=2018-01-01")
        assert response.json()["items"] == [ZA_NONE, ZA_LICENCE, ZB_REGISTRATION]

    async def test_history_pages_to_the_end(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await _regime_history(session)
        items, pages = await walk_pages(
            client, "/v1/features/zz_regime/values?history=true&limit=1"
        )
        assert items == [ZA_NONE, ZA_LICENCE, ZB_REGISTRATION]
        assert pages == 3

    async def test_jurisdictions_filter_is_case_insensitive(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await _regime_history(session)
        response = await client.get(
            "/v1/features/ZZ_REGIME/values", params={"jurisdictions": " zb ,ZB", "history": "true"}
        )
        assert response.json()["items"] == [ZB_REGISTRATION]

    async def test_unknown_jurisdiction_is_404_naming_it(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await _regime_history(session)
        body = assert_problem(
            await client.get("/v1/features/zz_regime/values?jurisdictions=XA,QQ,QR"), 404
        )
        assert body["detail"] == "No jurisdiction with code 'QQ', 'QR'."

    async def test_malformed_jurisdiction_is_422_naming_it(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await _regime_history(session)
        body = assert_problem(
            await client.get("/v1/features/zz_regime/values?jurisdictions=XA,1x"), 422
        )
        assert body["detail"] == "jurisdictions: not jurisdiction codes: 1X"
        assert body["errors"] == [
            {"loc": ["query", "jurisdictions"], "msg": "Invalid code '1X'", "type": "code"}
        ]

    async def test_bad_as_of_is_422(self, client: AsyncClient, session: AsyncSession) -> None:
        await _regime_history(session)
        body = assert_problem(
            await client.get("/v1/features/zz_regime/values?as_of=2023-02-30"), 422
        )
        assert [e["loc"] for e in body["errors"]] == [["query", "as_of"]]

    async def test_unknown_feature_is_404_naming_it(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/features/zz_no_such/values"), 404)
        assert body["detail"] == "No feature with key 'zz_no_such'."

    async def test_csv_has_a_row_per_value(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await _regime_history(session)
        response = await client.get(
            "/v1/features/zz_regime/values?history=true", headers={"Accept": "text/csv"}
        )
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.text.splitlines() == [
            "jurisdiction_code,feature_key,category,value_type,value,score,valid_from,valid_to,"
            "confidence,checked_on,inherited_from,source_ids,note",
            "XA,zz_regime,licensing,enum,none,0.0,2019-01-01,2023-06-01,verified,2026-01-15,,zz-gazette,",
            "XA,zz_regime,licensing,enum,licence,1.0,2023-06-01,,verified,2026-01-15,,zz-gazette;zz-law,"
            "Licensing in force.",
            "ZB,zz_regime,licensing,enum,registration,0.5,2021-01-01,,reported,2026-01-15,,,",
        ]

    async def test_revalidates_with_etag(self, client: AsyncClient, session: AsyncSession) -> None:
        await _regime_history(session)
        await assert_not_modified(client, "/v1/features/zz_regime/values?as_of=2023-05-31")


class TestListJurisdictionFeatures:
    async def _land(self, session: AsyncSession) -> None:
        xa = await create_jurisdiction(session, "XA")
        flag = await create_feature(session, "zz_flag", category="innovation")
        rate = await create_feature(
            session, "zz_rate", value_type="percent", category="taxation", higher_is_better=False
        )
        await create_feature_value(
            session, xa, flag, False, valid_from=date(2020, 1, 1), valid_to=date(2024, 1, 1)
        )
        await create_feature_value(session, xa, flag, True, valid_from=date(2024, 1, 1))
        await create_feature_value(session, xa, rate, 16.5, valid_from=date(2022, 4, 1))

    @staticmethod
    def _flag(value: bool, valid_from: str, valid_to: str | None = None) -> dict[str, Any]:
        return {
            "jurisdiction_code": "XA",
            "feature_key": "zz_flag",
            "category": "innovation",
            "value_type": "boolean",
            "value": value,
            "score": 1.0 if value else 0.0,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "note": None,
            "source_ids": [],
            "confidence": "verified",
            "checked_on": "2026-01-15",
            "inherited_from": None,
        }

    RATE = {
        "jurisdiction_code": "XA",
        "feature_key": "zz_rate",
        "category": "taxation",
        "value_type": "percent",
        "value": 16.5,
        "score": None,
        "valid_from": "2022-04-01",
        "valid_to": None,
        "note": None,
        "source_ids": [],
        "confidence": "verified",
        "checked_on": "2026-01-15",
        "inherited_from": None,
    }

    async def test_values_in_force_today_by_feature_key(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await self._land(session)
        response = await client.get("/v1/jurisdictions/xa/features")
        assert response.status_code == 200
        assert response.json() == {
            "items": [self._flag(True, "2024-01-01"), self.RATE],
            "next_cursor": None,
        }

    async def test_as_of_before_and_on_a_change(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await self._land(session)
        before = await client.get("/v1/jurisdictions/XA/features?as_of=2023-12-31")
        assert before.json()["items"] == [self._flag(False, "2020-01-01", "2024-01-01"), self.RATE]
        on = await client.get("/v1/jurisdictions/XA/features?as_of=2024-01-01")
        assert on.json()["items"] == [self._flag(True, "2024-01-01"), self.RATE]
        earlier = await client.get("/v1/jurisdictions/XA/features?as_of=2022-03-31")
        assert earlier.json()["items"] == [self._flag(False, "2020-01-01", "2024-01-01")]

    async def test_category_filter(self, client: AsyncClient, session: AsyncSession) -> None:
        await self._land(session)
        response = await client.get("/v1/jurisdictions/XA/features?category=taxation")
        assert response.json()["items"] == [self.RATE]

    async def test_history_pages_to_the_end(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await self._land(session)
        items, pages = await walk_pages(client, "/v1/jurisdictions/XA/features?history=1&limit=2")
        assert items == [
            self._flag(False, "2020-01-01", "2024-01-01"),
            self._flag(True, "2024-01-01"),
            self.RATE,
        ]
        assert pages == 2

    async def test_unknown_code_is_404_naming_it(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/jurisdictions/qq/features"), 404)
        assert body["detail"] == "No jurisdiction with code 'QQ'."

    async def test_unknown_category_is_422(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await self._land(session)
        body = assert_problem(await client.get("/v1/jurisdictions/XA/features?category=x"), 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "category"]]

    async def test_csv(self, client: AsyncClient, session: AsyncSession) -> None:
        await self._land(session)
        response = await client.get("/v1/jurisdictions/XA/features?format=csv")
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.text.splitlines()[1:] == [
            "XA,zz_flag,innovation,boolean,true,1.0,2024-01-01,,verified,2026-01-15,,,",
            "XA,zz_rate,taxation,percent,16.5,,2022-04-01,,verified,2026-01-15,,,",
        ]

    async def test_revalidates_with_etag(self, client: AsyncClient, session: AsyncSession) -> None:
        await self._land(session)
        await assert_not_modified(client, "/v1/jurisdictions/XA/features")
