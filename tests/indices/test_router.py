"""Scores on the small world of tests/compare/fixtures.py, computed by hand.

zz_index = zz_regime (enum_score, 0.5) + zz_tax (minmax, lower is better, 0.25)
         + zz_firms (log_minmax, 0.25), as of 2025-01-01:
  XA: regime licence 1.0; tax 10 -> (20-10)/(20-10) = 1.0; firms ln(11) is the max -> 1.0
      score = 100 * (0.5*1 + 0.25*1 + 0.25*1) / 1.0 = 100
  ZB: regime registration 0.6; tax 20 -> 0.0; firms ln(8) is the min -> 0.0
      score = 100 * (0.5*0.6) / 1.0 = 30
  ZC: regime none 0.0; no tax, no firms -> coverage 0.5
      score = 100 * (0.5*0) / 0.5 = 0
"""

import math

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.compare.fixtures import build_world
from tests.factories import create_feature_value, create_jurisdiction
from tests.test_errors import assert_problem

URL = "/v1/indices/zz_index/scores"
# min_coverage 0.5: ZC, half known, is ranked in the hand computations below.
BASE: dict[str, str | float] = {
    "jurisdictions": "XA,ZB,ZC",
    "as_of": "2025-01-01",
    "min_coverage": 0.5,
}


def _ranking(body: dict) -> list[tuple]:  # type: ignore[type-arg]
    return [
        (i["rank"], i["code"], i["score"] and round(i["score"], 9), round(i["coverage"], 9))
        for i in body["items"]
    ]


class TestGetIndexScores:
    async def test_hand_computed_ranking(self, client: AsyncClient, session: AsyncSession) -> None:
        await build_world(session)
        response = await client.get(URL, params=BASE)
        assert response.status_code == 200
        body = response.json()
        assert body["index"] == "zz_index"
        assert body["weights"] == {"zz_regime": 0.5, "zz_tax": 0.25, "zz_firms": 0.25}
        assert _ranking(body) == [(1, "XA", 100.0, 1.0), (2, "ZB", 30.0, 1.0), (3, "ZC", 0.0, 0.5)]
        zb = body["items"][1]
        assert zb["name"] == "Zedland B"
        assert zb["components"] == [
            {
                "key": "zz_regime",
                "kind": "feature",
                "weight": 0.5,
                "raw": "registration",
                "normalized": 0.6,
                "contribution": pytest.approx(30.0),
            },
            {
                "key": "zz_tax",
                "kind": "feature",
                "weight": 0.25,
                "raw": 20,
                "normalized": 0.0,
                "contribution": 0.0,
            },
            {
                "key": "zz_firms",
                "kind": "metric",
                "weight": 0.25,
                "raw": 7.0,
                "normalized": 0.0,
                "contribution": 0.0,
            },
        ]
        zc = body["items"][2]["components"]
        assert [(c["raw"], c["normalized"], c["contribution"]) for c in zc[1:]] == [
            (None, None, None),
            (None, None, None),
        ]

    async def test_response_shows_what_is_needed_to_recompute(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        body = (await client.get(URL, params=BASE)).json()
        used = {c["key"]: c for c in body["components"]}
        assert used["zz_regime"]["enum_scores"] == {
            "licence": 1.0,
            "registration": 0.6,
            "none": 0.0,
        }
        assert used["zz_tax"]["stats"] == {"count": 2, "min": 10.0, "max": 20.0}
        assert used["zz_tax"]["higher_is_better"] is False
        assert used["zz_firms"]["stats"]["min"] == pytest.approx(math.log(8))
        assert used["zz_firms"]["stats"]["max"] == pytest.approx(math.log(11))
        assert used["zz_firms"]["transform"] == "log_minmax"
        for item in body["items"]:
            parts = [c["contribution"] for c in item["components"] if c["contribution"]]
            assert sum(parts) == pytest.approx(item["score"])

    async def test_reweighting_is_renormalised(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        body = (await client.get(URL, params={**BASE, "weights": "zz_regime:0,zz_tax:1"})).json()
        # 0 + 1 + 0.25 (unchanged) = 1.25 -> tax 0.8, firms 0.2.
        assert body["weights"] == {"zz_regime": 0.0, "zz_tax": 0.8, "zz_firms": 0.2}
        # ZC only has data on a zero-weight component: coverage 0, unscored.
        assert _ranking(body) == [
            (1, "XA", 100.0, 1.0),
            (2, "ZB", 0.0, 1.0),
            (None, "ZC", None, 0.0),
        ]

    async def test_scores_are_rounded_to_six_decimals(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        thirds = {**BASE, "weights": "zz_regime:1,zz_tax:1,zz_firms:1"}
        body = (await client.get(URL, params=thirds)).json()
        xa, zb, _ = body["items"]
        assert (xa["score"], zb["score"]) == (100.0, 20.0)
        assert [c["contribution"] for c in xa["components"]] == [33.333333] * 3
        assert [c["contribution"] for c in zb["components"]] == [20.0, 0.0, 0.0]

    async def test_min_coverage_leaves_thin_data_unranked(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        strict = (await client.get(URL, params={**BASE, "min_coverage": 0.6})).json()
        assert _ranking(strict)[2] == (None, "ZC", None, 0.5)
        lenient = (await client.get(URL, params={**BASE, "min_coverage": 0})).json()
        assert _ranking(lenient)[2] == (3, "ZC", 0.0, 0.5)
        default = {k: v for k, v in BASE.items() if k != "min_coverage"}
        body = (await client.get(URL, params=default)).json()
        assert _ranking(body)[2] == (None, "ZC", None, 0.5), "the default is 0.8"

    async def test_equal_scores_share_a_rank(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        twin = await create_jurisdiction(session, "ZD", name="Zedland D")
        from sqlalchemy import select

        from app.features.models import Feature

        regime = await session.scalar(select(Feature).where(Feature.key == "zz_regime"))
        assert regime is not None
        await create_feature_value(session, twin, regime, "registration")
        body = (
            await client.get(
                URL, params={"jurisdictions": "ZB,ZD,ZC", "as_of": "2025-01-01", "min_coverage": 0}
            )
        ).json()
        # ZB: regime 0.6, tax 20 alone -> 1.0, firms 7 alone -> 1.0:
        #     100 * (0.3 + 0.25 + 0.25) = 80.  ZD: regime only -> 100 * 0.3 / 0.5 = 60.
        # ZC: regime 0 over coverage 0.5 -> 0.
        assert _ranking(body) == [(1, "ZB", 80.0, 1.0), (2, "ZD", 60.0, 0.5), (3, "ZC", 0.0, 0.5)]
        tie = (
            await client.get(
                URL,
                params={
                    "jurisdictions": "ZD,ZC",
                    "as_of": "2025-01-01",
                    "weights": "zz_regime:0,zz_tax:1,zz_firms:1",
                    "min_coverage": 0,
                },
            )
        ).json()
        assert [(i["rank"], i["code"]) for i in tie["items"]] == [(None, "ZC"), (None, "ZD")]

    async def test_as_of_before_the_data(self, client: AsyncClient, session: AsyncSession) -> None:
        await build_world(session)
        body = (
            await client.get(
                URL, params={"jurisdictions": "XA,ZB", "as_of": "2019-06-01", "min_coverage": 0}
            )
        ).json()
        assert [(i["rank"], i["score"], i["coverage"]) for i in body["items"]] == [
            (None, None, 0.0),
            (None, None, 0.0),
        ]

    async def test_pages_through_the_ranking(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        first = await client.get(URL, params={**BASE, "limit": 2})
        assert [i["code"] for i in first.json()["items"]] == ["XA", "ZB"]
        link = first.headers["link"]
        second = await client.get(link[1 : link.index(">")])
        assert [i["code"] for i in second.json()["items"]] == ["ZC"]
        assert second.json()["next_cursor"] is None

    async def test_csv(self, client: AsyncClient, session: AsyncSession) -> None:
        await build_world(session)
        response = await client.get(URL, params={**BASE, "format": "csv"})
        lines = response.text.splitlines()
        assert lines[0] == (
            "rank,code,name,score,coverage,zz_regime_raw,zz_tax_raw,"
            "zz_firms_raw,zz_regime_contribution,zz_tax_contribution,"
            "zz_firms_contribution"
        )
        assert lines[1] == "1,XA,Zedland A,100.0,1.0,licence,10,10,50.0,25.0,25.0"

    async def test_errors(self, client: AsyncClient, session: AsyncSession) -> None:
        await build_world(session)
        body = assert_problem(await client.get("/v1/indices/nope/scores"), 404)
        assert body["detail"] == "No index with key 'nope'."
        body = assert_problem(await client.get(URL, params={"jurisdictions": "XA,QQ"}), 404)
        assert body["detail"] == "No jurisdiction with code 'QQ'."
        for weights in (
            "zz_tax",
            "zz_tax:heavy",
            "nope:1",
            "zz_tax:-1",
            "zz_regime:0,zz_tax:0,zz_firms:0",
        ):
            body = assert_problem(await client.get(URL, params={**BASE, "weights": weights}), 422)
            assert body["errors"][0]["loc"] == ["query", "weights"], weights
        assert_problem(await client.get(URL, params={**BASE, "min_coverage": 2}), 422)


class TestIndexDefinitions:
    async def test_list_and_get(self, client: AsyncClient, session: AsyncSession) -> None:
        await build_world(session)
        listing = (await client.get("/v1/indices")).json()
        assert "zz_index" in [i["key"] for i in listing["items"]]
        index = (await client.get("/v1/indices/ZZ_INDEX")).json()
        assert [
            (c["kind"], c["key"], c["weight"], c["transform"]) for c in index["components"]
        ] == [
            ("feature", "zz_regime", 0.5, "enum_score"),
            ("feature", "zz_tax", 0.25, "minmax"),
            ("metric", "zz_firms", 0.25, "log_minmax"),
        ]
        assert index["methodology"] == "Test methodology."

    async def test_bundled_index_has_a_methodology(self, client: AsyncClient) -> None:
        index = (await client.get("/v1/indices/va_hub_competitiveness")).json()
        assert index["methodology"].startswith("# ")
        assert sum(c["weight"] for c in index["components"]) == pytest.approx(1.0)

    async def test_unknown_index_is_404(self, client: AsyncClient) -> None:
        assert assert_problem(await client.get("/v1/indices/nope"), 404)["detail"] == (
            "No index with key 'nope'."
        )


def test_the_bundled_methodology_is_the_docs_page() -> None:
    """Up to the section on the article's scenarios, which evaluates data, not the method."""
    from pathlib import Path

    from app.dataset.loader import bundled_dataset
    from app.scenarios.doc import HEADING

    page = Path(__file__).resolve().parents[2] / "docs" / "methodology.md"
    index = next(i for i in bundled_dataset().indices if i.key == "va_hub_competitiveness")
    assert index.methodology == page.read_text().split(HEADING)[0].strip()
