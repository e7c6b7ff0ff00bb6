from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.compare.fixtures import build_world
from tests.test_errors import assert_problem

FEATURES = "zz_retail,zz_regime,zz_tax,zz_note"


def _row(body: dict, kind: str, key: str) -> dict:  # type: ignore[type-arg]
    return next(row for row in body[kind] if row["key"] == key)


class TestCompareJurisdictions:
    async def test_matrix_with_scores_leaders_and_differs(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        response = await client.get(
            "/v1/compare",
            params={"jurisdictions": "xa,ZB,zc", "features": FEATURES, "as_of": "2025-01-01"},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["as_of"] == "2025-01-01"
        assert body["jurisdictions"] == [
            {"code": "XA", "name": "Zedland A"},
            {"code": "ZB", "name": "Zedland B"},
            {"code": "ZC", "name": "Zedland C"},
        ]
        # Rows are ordered by category, then key.
        assert [f["key"] for f in body["features"]] == [
            "zz_note",
            "zz_regime",
            "zz_retail",
            "zz_tax",
        ]

        tax = _row(body, "features", "zz_tax")
        # Lower is better: min 10 -> 1.0, max 20 -> 0.0; ZC has no value (null, not 0).
        assert {c: v and v["score"] for c, v in tax["values"].items()} == {
            "XA": 1.0,
            "ZB": 0.0,
            "ZC": None,
        }
        assert tax["values"]["XA"] == {
            "value": 10,
            "score": 1.0,
            "valid_from": "2020-01-01",
            "valid_to": None,
            "inherited_from": None,
            "confidence": "verified",
            "checked_on": "2026-01-15",
            "source_ids": ["zz-law"],
            "note": None,
        }
        assert (tax["leaders"], tax["differs"]) == (["XA"], True)

        regime = _row(body, "features", "zz_regime")
        assert [regime["values"][c]["score"] for c in ("XA", "ZB", "ZC")] == [1.0, 0.6, 0.0]
        assert regime["leaders"] == ["XA"]

        retail = _row(body, "features", "zz_retail")
        assert (retail["leaders"], retail["differs"]) == (["XA", "ZB", "ZC"], False)

        note = _row(body, "features", "zz_note")
        assert note["values"]["XA"]["score"] is None
        assert (note["leaders"], note["differs"]) == ([], True)

        # Default metrics: those with data for the compared set.
        assert [m["key"] for m in body["metrics"]] == ["zz_firms"]
        firms = body["metrics"][0]
        assert firms["values"] == {
            "XA": {
                "value": 10.0,
                "period": "2024",
                "bound": None,
                "confidence": "verified",
                "checked_on": "2026-01-15",
                "source_ids": ["zz-law"],
                "note": None,
            },
            "ZB": {
                "value": 7.0,
                "period": "2024-Q2",
                "bound": None,
                "confidence": "verified",
                "checked_on": "2026-01-15",
                "source_ids": ["zz-news"],
                "note": None,
            },
            "ZC": None,
        }
        assert firms["leaders"] == ["XA"]
        assert [s["id"] for s in body["sources"]] == ["zz-law", "zz-news"]

    async def test_as_of_reads_what_was_in_force(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        body = (
            await client.get(
                "/v1/compare",
                params={
                    "jurisdictions": "XA,ZB,ZC",
                    "features": "zz_retail",
                    "metrics": "zz_firms",
                    "as_of": "2022-12-31",
                },
            )
        ).json()
        retail = body["features"][0]
        assert [retail["values"][c]["value"] for c in ("XA", "ZB", "ZC")] == [True, True, False]
        assert (retail["leaders"], retail["differs"]) == (["XA", "ZB"], True)
        # The interval [2020-01-01, 2023-01-01) ends the day before; the next starts on it.
        on_the_day = (
            await client.get(
                "/v1/compare",
                params={"jurisdictions": "ZB,ZC", "features": "zz_retail", "as_of": "2023-01-01"},
            )
        ).json()
        assert on_the_day["features"][0]["values"]["ZC"]["value"] is True
        # Only observations whose period has ended by as_of: XA's 2024 not yet, ZB's 2023.
        early = (
            await client.get(
                "/v1/compare",
                params={
                    "jurisdictions": "XA,ZB,ZC",
                    "metrics": "zz_firms",
                    "features": "zz_retail",
                    "as_of": "2024-03-01",
                },
            )
        ).json()
        assert body["metrics"][0]["values"] == {"XA": None, "ZB": None, "ZC": None}
        assert body["metrics"][0]["leaders"] == []
        firms = early["metrics"][0]
        assert firms["values"]["XA"] is None
        assert firms["values"]["ZB"]["period"] == "2023"
        assert firms["leaders"] == ["ZB"]

    async def test_categories_filter(self, client: AsyncClient, session: AsyncSession) -> None:
        await build_world(session)
        body = (
            await client.get(
                "/v1/compare",
                params={
                    "jurisdictions": "XA,ZB",
                    "categories": "taxation,licensing",
                    "metrics": "zz_firms",
                },
            )
        ).json()
        assert {f["category"] for f in body["features"]} == {"taxation", "licensing"}
        assert {"zz_regime", "zz_tax"} <= {f["key"] for f in body["features"]}

    async def test_csv_has_a_row_per_feature_and_metric(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        response = await client.get(
            "/v1/compare",
            params={
                "jurisdictions": "XA,ZB,ZC",
                "features": "zz_tax,zz_retail",
                "metrics": "zz_firms",
                "as_of": "2025-01-01",
            },
            headers={"Accept": "text/csv"},
        )
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.text.splitlines() == [
            "kind,key,name,unit,XA,ZB,ZC",
            "feature,zz_retail,Zz retail,,true,true,true",
            "feature,zz_tax,Zz tax,percent,10,20,",
            "metric,zz_firms,Zz firms,count,10.0,7.0,",
        ]

    async def test_unknown_code_is_404_naming_every_one(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        body = assert_problem(await client.get("/v1/compare?jurisdictions=XA,QQ,QX"), 404)
        assert body["detail"] == "No jurisdiction with code 'QQ', 'QX'."

    async def test_unknown_feature_or_metric_is_404(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        body = assert_problem(
            await client.get("/v1/compare?jurisdictions=XA,ZB&features=zz_tax,nope"), 404
        )
        assert body["detail"] == "No feature with key 'nope'."
        body = assert_problem(await client.get("/v1/compare?jurisdictions=XA,ZB&metrics=nada"), 404)
        assert body["detail"] == "No metric with key 'nada'."

    async def test_parameter_errors_are_422(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await build_world(session)
        cases = {
            "jurisdictions=XA": ["query", "jurisdictions"],
            "jurisdictions=" + ",".join(f"Z{chr(65 + i // 26)}{i}" for i in range(51)): [
                "query",
                "jurisdictions",
            ],
            "jurisdictions=XA,ZB&features=zz_tax&categories=taxation": ["query", "categories"],
            "jurisdictions=XA,ZB&categories=weather": ["query", "categories"],
            "jurisdictions=XA,ZB&metrics=zz_flow": ["query", "metrics"],
            "jurisdictions=XA,ZB&as_of=2024-13-01": ["query", "as_of"],
            "jurisdictions=XA,not a code": ["query", "jurisdictions"],
        }
        for query, loc in cases.items():
            body = assert_problem(await client.get(f"/v1/compare?{query}"), 422)
            assert body["errors"][0]["loc"] == loc, query

    async def test_missing_jurisdictions_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/compare"), 422)
        assert body["errors"][0]["loc"] == ["query", "jurisdictions"]
