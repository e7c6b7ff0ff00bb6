from datetime import date

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    create_feature,
    create_feature_value,
    create_jurisdiction,
    create_metric,
    create_observation,
    create_regulator,
    create_source,
    vacate_region,
)
from tests.test_errors import assert_problem


async def _three_lands(session: AsyncSession) -> None:
    await vacate_region(session)
    zed = await create_jurisdiction(session, "XA", name="Zedland Alpha", region="africa")
    await create_regulator(session, zed, "xa-vaa", name="Virtual Asset Authority", acronym="VAA")
    await create_regulator(
        session, zed, "xa-cb", name="Central Bank", acronym="CB", remit=["banking"]
    )
    await create_jurisdiction(session, "ZB", name="Zedland Beta", region="africa", kind="territory")
    await create_jurisdiction(session, "ZC", name="Zedland Gamma", region="africa")


class TestListJurisdictions:
    async def test_filters_by_region_in_code_order(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await _three_lands(session)
        response = await client.get("/v1/jurisdictions", params={"region": "africa"})
        assert response.status_code == 200
        body = response.json()
        assert [j["code"] for j in body["items"]] == ["XA", "ZB", "ZC"]
        assert body["next_cursor"] is None
        assert "link" not in response.headers
        first = body["items"][0]
        assert [r["id"] for r in first["regulators"]] == ["xa-cb", "xa-vaa"]
        assert first["regulators"][1] == {
            "id": "xa-vaa",
            "jurisdiction_code": "XA",
            "name": "Virtual Asset Authority",
            "acronym": "VAA",
            "url": None,
            "remit": ["virtual_assets"],
        }

    async def test_pages_to_the_end_with_cursor_and_link(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await _three_lands(session)
        seen: list[str] = []
        url = "/v1/jurisdictions?region=africa&limit=2"
        pages = 0
        while url:
            response = await client.get(url)
            body = response.json()
            seen += [j["code"] for j in body["items"]]
            pages += 1
            if body["next_cursor"]:
                link = response.headers["link"]
                assert link.endswith('; rel="next"')
                url = link[1 : link.index(">")]
            else:
                url = ""
        assert seen == ["XA", "ZB", "ZC"]
        assert pages == 2

    async def test_kind_and_search(self, client: AsyncClient, session: AsyncSession) -> None:
        await _three_lands(session)
        by_kind = await client.get("/v1/jurisdictions?region=africa&kind=territory")
        assert [j["code"] for j in by_kind.json()["items"]] == ["ZB"]
        fuzzy = await client.get("/v1/jurisdictions", params={"q": "zedland gama"})
        assert [j["code"] for j in fuzzy.json()["items"]] == ["ZC"]
        by_code = await client.get("/v1/jurisdictions", params={"q": "zb"})
        assert [j["code"] for j in by_code.json()["items"]] == ["ZB"]

    async def test_has_feature(self, client: AsyncClient, session: AsyncSession) -> None:
        await _three_lands(session)
        feature = await create_feature(session, "zz_sandbox")
        xa = await create_jurisdiction(session, "ZD", region="africa")
        zb = await create_jurisdiction(session, "ZE", region="africa")
        await create_feature_value(session, xa, feature, True)
        await create_feature_value(session, zb, feature, False)
        response = await client.get("/v1/jurisdictions?has_feature=ZZ_SANDBOX")
        assert [j["code"] for j in response.json()["items"]] == ["ZD"]

    async def test_unknown_feature_filter_is_404_naming_it(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/jurisdictions?has_feature=no_such"), 404)
        assert body["detail"] == "No feature with key 'no_such'."

    async def test_tampered_cursor_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/jurisdictions?cursor=bm90LWpzb24"), 422)
        assert body["errors"][0]["loc"] == ["query", "cursor"]

    async def test_limit_bounds(self, client: AsyncClient) -> None:
        assert_problem(await client.get("/v1/jurisdictions?limit=501"), 422)
        assert (await client.get("/v1/jurisdictions?limit=500")).status_code == 200

    async def test_csv(self, client: AsyncClient, session: AsyncSession) -> None:
        await _three_lands(session)
        response = await client.get("/v1/jurisdictions?region=africa&format=csv")
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        lines = response.text.splitlines()
        assert lines[0] == "code,name,kind,parent_code,region,currency,regulators,updated_at"
        assert lines[1].startswith("XA,Zedland Alpha,country,,africa,EUR,xa-cb;xa-vaa,")
        assert len(lines) == 4


class TestGetJurisdiction:
    async def test_profile(self, client: AsyncClient, session: AsyncSession) -> None:
        land = await create_jurisdiction(session, "ZZ", name="Zedland", region="africa")
        await create_jurisdiction(
            session, "ZZ-NORTH", name="North Zedland", kind="subdivision", parent=land
        )
        source = await create_source(session, "zz-gazette")
        feature = await create_feature(session, "zz_flag")
        await create_feature_value(
            session,
            land,
            feature,
            False,
            valid_from=date(2019, 1, 1),
            valid_to=date(2021, 1, 1),
            sources=[source],
        )
        await create_feature_value(
            session, land, feature, True, valid_from=date(2021, 1, 1), sources=[source]
        )
        metric = await create_metric(session, "zz_firms")
        await create_observation(session, land, metric, "2023", 4, sources=[source])
        await create_observation(
            session, land, metric, "2024-Q2", 9, sources=[source], confidence="reported"
        )

        response = await client.get("/v1/jurisdictions/zz")
        assert response.status_code == 200
        body = response.json()
        assert body["code"] == "ZZ"
        assert body["children"] == ["ZZ-NORTH"]
        assert body["counts"] == {
            "features_in_force": 1,
            "feature_values": 2,
            "observations": 2,
            "metrics": 1,
            "events": 0,
            "sources": 1,
        }
        assert body["latest_metrics"] == [
            {
                "metric_key": "zz_firms",
                "name": "Zz firms",
                "unit": "count",
                "period": "2024-Q2",
                "value": 9.0,
                "bound": None,
                "confidence": "reported",
                "checked_on": "2026-01-15",
                "source_ids": ["zz-gazette"],
            }
        ]

    async def test_subdivision_names_its_parent(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        land = await create_jurisdiction(session, "ZZ")
        await create_jurisdiction(session, "ZZ-NORTH", kind="subdivision", parent=land)
        body = (await client.get("/v1/jurisdictions/ZZ-north")).json()
        assert body["parent_code"] == "ZZ"

    async def test_unknown_code_is_404_problem_naming_it(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/jurisdictions/QQ"), 404)
        assert body["detail"] == "No jurisdiction with code 'QQ'."

    async def test_malformed_code_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/jurisdictions/not-a-code!"), 422)
        assert body["errors"][0]["loc"] == ["path", "code"]
