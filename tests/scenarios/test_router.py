"""What-if scenarios on the small world of tests/compare/fixtures.py (see its docstring and
tests/indices/test_router.py for the baseline: XA 100, ZB 30, ZC 0)."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes.models import Change
from app.features.models import FeatureValue
from tests.compare.fixtures import build_world
from tests.test_errors import assert_problem

URL = "/v1/scenarios/evaluate"


def scenario(code: str, *overrides: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "index": "zz_index",
        "jurisdiction": code,
        "overrides": list(overrides),
        "as_of": "2025-01-01",
        "jurisdictions": ["XA", "ZB", "ZC"],
        **extra,
    }


class TestEvaluateScenario:
    async def test_moving_up_into_a_shared_first_place(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        response = await client.post(
            URL,
            json=scenario(
                "zb",
                {"feature": "zz_regime", "value": "licence"},
                {"feature": "zz_tax", "value": 5},
            ),
        )
        assert response.status_code == 200
        body = response.json()
        # Tax bounds become 5..10: ZB 1.0, XA 0.0. ZB = 100*(0.5 + 0.25 + 0) = 75, and
        # XA = 100*(0.5 + 0 + 0.25) = 75: they share first place.
        assert body["baseline"] == {"score": 30.0, "rank": 2, "coverage": 1.0}
        assert body["scenario"] == {"score": pytest.approx(75.0), "rank": 1, "coverage": 1.0}
        assert body["score_delta"] == pytest.approx(45.0)
        assert body["rank_delta"] == -1
        assert (body["jurisdiction"], body["name"], body["compared"]) == ("ZB", "Zedland B", 3)
        assert [c["key"] for c in body["changed_components"]] == ["zz_regime", "zz_tax"]
        tax = body["changed_components"][1]
        assert tax["baseline"] == {"raw": 20, "normalized": 0.0, "contribution": 0.0}
        assert tax["scenario"] == {"raw": 5, "normalized": 1.0, "contribution": 25.0}
        assert body["unused_overrides"] == []

    async def test_moving_down(self, client: AsyncClient, session: AsyncSession) -> None:
        await build_world(session)
        body = (
            await client.post(
                URL,
                json=scenario(
                    "XA",
                    {"feature": "zz_regime", "value": "none"},
                    {"metric": "zz_firms", "value": 1},
                ),
            )
        ).json()
        # XA: regime 0; tax still best 1.0; firms ln 2 now the min -> 0, ZB's ln 8 the max.
        # XA = 100*0.25 = 25; ZB = 100*(0.3 + 0 + 0.25) = 55.
        assert body["scenario"] == {"score": pytest.approx(25.0), "rank": 2, "coverage": 1.0}
        assert (body["score_delta"], body["rank_delta"]) == (pytest.approx(-75.0), 1)

    async def test_removing_a_value_lowers_coverage(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        body = (
            await client.post(
                URL,
                json=scenario("ZB", {"feature": "zz_tax", "value": None}, min_coverage=0.5),
            )
        ).json()
        # ZB without tax: regime 0.6 (0.5), firms 0.0 (0.25): 100 * 0.3 / 0.75 = 40.
        assert body["scenario"]["coverage"] == 0.75
        assert body["scenario"]["score"] == pytest.approx(40.0)

    async def test_no_op_changes_nothing(self, client: AsyncClient, session: AsyncSession) -> None:
        await build_world(session)
        body = (
            await client.post(
                URL,
                json=scenario(
                    "ZB",
                    {"feature": "zz_tax", "value": 20},
                    {"feature": "zz_retail", "value": False},
                ),
            )
        ).json()
        assert (body["score_delta"], body["rank_delta"], body["changed_components"]) == (0.0, 0, [])
        assert body["unused_overrides"] == ["zz_retail"]

    async def test_reweighted(self, client: AsyncClient, session: AsyncSession) -> None:
        await build_world(session)
        body = (
            await client.post(
                URL,
                json=scenario(
                    "ZB",
                    {"feature": "zz_regime", "value": "licence"},
                    weights={"zz_regime": 1, "zz_tax": 0, "zz_firms": 0},
                ),
            )
        ).json()
        assert body["weights"] == {"zz_regime": 1.0, "zz_tax": 0.0, "zz_firms": 0.0}
        assert (body["baseline"]["score"], body["scenario"]["score"]) == (60.0, 100.0)

    async def test_nothing_is_stored(self, client: AsyncClient, session: AsyncSession) -> None:
        await build_world(session)
        before = (
            await session.scalar(select(func.count()).select_from(Change)),
            await session.scalar(select(func.count()).select_from(FeatureValue)),
        )
        response = await client.post(
            URL, json=scenario("ZB", {"feature": "zz_regime", "value": "licence"})
        )
        assert response.status_code == 200
        after = (
            await session.scalar(select(func.count()).select_from(Change)),
            await session.scalar(select(func.count()).select_from(FeatureValue)),
        )
        assert after == before
        compare = (await client.get("/v1/compare?jurisdictions=XA,ZB&features=zz_regime")).json()
        assert compare["features"][0]["values"]["ZB"]["value"] == "registration"

    @pytest.mark.parametrize(
        ("overrides", "loc"),
        [
            ([{"feature": "zz_regime", "value": "monarchy"}], ["body", "overrides", 0, "value"]),
            ([{"feature": "zz_tax", "value": "low"}], ["body", "overrides", 0, "value"]),
            ([{"feature": "zz_retail", "value": 1}], ["body", "overrides", 0, "value"]),
            ([{"feature": "nope", "value": 1}], ["body", "overrides", 0, "feature"]),
            ([{"metric": "zz_firms", "value": "many"}], ["body", "overrides", 0, "value"]),
            ([{"metric": "zz_flow", "value": 3}], ["body", "overrides", 0, "metric"]),
            (
                [{"feature": "zz_tax", "value": 1}, {"feature": "zz_tax", "value": 2}],
                ["body", "overrides", 1, "feature"],
            ),
            ([{"feature": "zz_tax", "metric": "zz_firms", "value": 1}], ["body", "overrides", 0]),
            ([{"value": 1}], ["body", "overrides", 0]),
        ],
        ids=[
            "enum",
            "percent",
            "boolean",
            "unknown-feature",
            "metric-number",
            "bilateral",
            "twice",
            "both-targets",
            "no-target",
        ],
    )
    async def test_overrides_are_validated_like_writes(
        self, client: AsyncClient, session: AsyncSession, overrides: list[Any], loc: list[Any]
    ) -> None:
        await build_world(session)
        body = assert_problem(await client.post(URL, json=scenario("ZB", *overrides)), 422)
        assert body["errors"][0]["loc"][: len(loc)] == loc

    async def test_other_errors(self, client: AsyncClient, session: AsyncSession) -> None:
        await build_world(session)
        body = assert_problem(await client.post(URL, json={**scenario("ZB"), "index": "nope"}), 404)
        assert body["detail"] == "No index with key 'nope'."
        body = assert_problem(await client.post(URL, json=scenario("ZD")), 422)
        assert body["errors"][0]["loc"] == ["body", "jurisdictions"]
        body = assert_problem(
            await client.post(URL, json={**scenario("QQ"), "jurisdictions": None}), 404
        )
        assert body["detail"] == "No jurisdiction with code 'QQ'."
        body = assert_problem(await client.post(URL, json=scenario("ZB", weights={"x": 1})), 422)
        assert body["errors"][0]["loc"] == ["body", "weights"]
        assert_problem(await client.post(URL, json={**scenario("ZB"), "surprise": 1}), 422)
        malformed = await client.post(
            URL, content=b"{not json", headers={"content-type": "application/json"}
        )
        assert_problem(malformed, 400)


class TestTheMotivatingQuestion:
    """Hong Kong on va_hub_competitiveness with and without a retail-open, sandbox-enabled,
    tax-competitive regime, on the bundled data."""

    async def test_hong_kong_with_and_without_the_regime(self, client: AsyncClient) -> None:
        open_regime = [
            {"feature": "retail_trading_allowed", "value": True},
            {"feature": "regulatory_sandbox", "value": True},
            {"feature": "crypto_capital_gains_tax_individual_pct", "value": 0},
            {"feature": "corporate_income_tax_pct", "value": 9},
        ]
        closed_regime = [
            {"feature": "retail_trading_allowed", "value": False},
            {"feature": "regulatory_sandbox", "value": False},
            {"feature": "crypto_capital_gains_tax_individual_pct", "value": 20},
            {"feature": "corporate_income_tax_pct", "value": 16.5},
        ]
        request = {"index": "va_hub_competitiveness", "jurisdiction": "HK", "as_of": "2026-11-01"}
        with_it = (await client.post(URL, json={**request, "overrides": open_regime})).json()
        without = (await client.post(URL, json={**request, "overrides": closed_regime})).json()
        assert with_it["baseline"] == without["baseline"]
        assert with_it["scenario"]["score"] > without["scenario"]["score"]
        assert with_it["scenario"]["rank"] < without["scenario"]["rank"]
        assert without["score_delta"] < 0 <= with_it["score_delta"]
        for result in (with_it, without):
            changed = result["changed_components"]
            assert all(c["baseline"] != c["scenario"] for c in changed)
