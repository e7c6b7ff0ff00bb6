from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.periods import parse_period
from tests.factories import create_jurisdiction, create_metric, create_observation, create_source
from tests.test_conventions import assert_not_modified, csv_rows, walk_pages
from tests.test_errors import assert_problem


def obs(
    code: str,
    period: str,
    value: float,
    *,
    metric: str = "zz_firms",
    counterpart: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    start, end = parse_period(period)
    return {
        "jurisdiction_code": code,
        "metric_key": metric,
        "period": period,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "value": value,
        "bound": None,
        "counterpart_code": counterpart,
        "source_ids": [],
        "confidence": "verified",
        "checked_on": "2026-01-15",
        "note": None,
    } | fields


# zz_firms: an annual panel of three series.
FIRMS = [
    obs("XA", "2022", 10.0, source_ids=["zz-register"]),
    obs("XA", "2023", 12.0, source_ids=["zz-register"]),
    obs("XA", "2024", 15.0, source_ids=["zz-register", "zz-survey"], confidence="reported"),
    obs("ZB", "2023", 4.0),
    obs("ZB", "2024", 5.5, note="Provisional."),
    obs("ZC", "2024", 1.0),
]
# zz_volume: one series of XA mixing a year, quarters, a month and a day, in series order.
VOLUME = [
    obs("XA", "2023", 100.0, metric="zz_volume"),
    obs("XA", "2024-Q1", 30.0, metric="zz_volume"),
    obs("XA", "2024-Q2", 35.0, metric="zz_volume"),
    obs("XA", "2024-06", 12.0, metric="zz_volume"),
    obs("XA", "2024-07-15", 0.5, metric="zz_volume"),
]
# zz_talent_flow: bilateral; XA -> ZB, XA -> ZC and ZB -> XA.
FLOWS = [
    obs("XA", "2023", 120.0, metric="zz_talent_flow", counterpart="ZB"),
    obs("XA", "2024", 150.0, metric="zz_talent_flow", counterpart="ZB"),
    obs("XA", "2024", 30.0, metric="zz_talent_flow", counterpart="ZC"),
    obs("ZB", "2024", 20.0, metric="zz_talent_flow", counterpart="XA"),
]


@pytest.fixture
async def panel(session: AsyncSession) -> None:
    lands = {code: await create_jurisdiction(session, code) for code in ("XA", "ZB", "ZC")}
    sources = {slug: await create_source(session, slug) for slug in ("zz-register", "zz-survey")}
    metrics = {
        "zz_firms": await create_metric(session, "zz_firms"),
        "zz_volume": await create_metric(session, "zz_volume", unit="usd", frequency="irregular"),
        "zz_talent_flow": await create_metric(
            session, "zz_talent_flow", unit="people", higher_is_better=None, bilateral=True
        ),
    }
    # Created out of order: the API sorts.
    for row in reversed(FIRMS + VOLUME + FLOWS):
        await create_observation(
            session,
            lands[row["jurisdiction_code"]],
            metrics[row["metric_key"]],
            row["period"],
            row["value"],
            counterpart=lands[row["counterpart_code"]] if row["counterpart_code"] else None,
            sources=[sources[slug] for slug in reversed(row["source_ids"])],
            confidence=row["confidence"],
            note=row["note"],
        )


class TestListMetrics:
    async def test_pages_to_the_end_in_key_order(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        for key in ("zz_c", "zz_a", "zz_b"):
            await create_metric(session, key)
        items, pages = await walk_pages(client, "/v1/metrics?limit=2")
        keys = [item["key"] for item in items]
        assert keys == sorted(set(keys))
        assert [key for key in keys if key.startswith("zz_")] == ["zz_a", "zz_b", "zz_c"]
        assert pages == (len(items) + 1) // 2

    async def test_item_is_the_definition(self, client: AsyncClient, session: AsyncSession) -> None:
        await create_metric(
            session, "zz_flow", unit="people", higher_is_better=None, bilateral=True
        )
        items, _ = await walk_pages(client, "/v1/metrics?limit=500")
        assert [item for item in items if item["key"] == "zz_flow"] == [
            {
                "key": "zz_flow",
                "name": "Zz flow",
                "unit": "people",
                "description": None,
                "higher_is_better": None,
                "frequency": "annual",
                "bilateral": True,
            }
        ]

    async def test_csv(self, client: AsyncClient, session: AsyncSession) -> None:
        await create_metric(session, "zz_firms")
        rows = csv_rows(await client.get("/v1/metrics?format=csv&limit=500"))
        assert rows[0] == [
            "key",
            "name",
            "unit",
            "frequency",
            "bilateral",
            "higher_is_better",
            "description",
        ]
        assert [row for row in rows if row[0] == "zz_firms"] == [
            ["zz_firms", "Zz firms", "count", "annual", "false", "true", ""]
        ]

    async def test_revalidates_with_etag(self, client: AsyncClient) -> None:
        await assert_not_modified(client, "/v1/metrics")


class TestGetMetric:
    async def test_key_is_case_insensitive(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await create_metric(session, "zz_firms", frequency="quarterly")
        response = await client.get("/v1/metrics/ZZ_Firms")
        assert response.status_code == 200
        assert response.json() == {
            "key": "zz_firms",
            "name": "Zz firms",
            "unit": "count",
            "description": None,
            "higher_is_better": True,
            "frequency": "quarterly",
            "bilateral": False,
        }

    async def test_unknown_key_is_404_naming_it(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/metrics/zz_no_such"), 404)
        assert body["detail"] == "No metric with key 'zz_no_such'."

    async def test_malformed_key_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/metrics/1st-metric"), 422)
        assert [e["loc"] for e in body["errors"]] == [["path", "key"]]

    async def test_revalidates_with_etag(self, client: AsyncClient, session: AsyncSession) -> None:
        await create_metric(session, "zz_firms")
        await assert_not_modified(client, "/v1/metrics/zz_firms")


@pytest.mark.usefixtures("panel")
class TestListMetricObservations:
    async def test_panel_across_jurisdictions_in_series_order(self, client: AsyncClient) -> None:
        response = await client.get("/v1/metrics/ZZ_FIRMS/observations")
        assert response.status_code == 200
        assert response.json() == {"items": FIRMS, "next_cursor": None}
        assert "link" not in response.headers

    async def test_jurisdictions_filter(self, client: AsyncClient) -> None:
        response = await client.get("/v1/metrics/zz_firms/observations?jurisdictions=zc,ZB")
        assert response.json()["items"] == FIRMS[3:]

    @pytest.mark.parametrize("limit", [1, 2, 4])
    async def test_pages_cover_every_row_exactly_once(
        self, client: AsyncClient, limit: int
    ) -> None:
        items, pages = await walk_pages(client, f"/v1/metrics/zz_firms/observations?limit={limit}")
        assert items == FIRMS
        assert pages == -(-len(FIRMS) // limit)

    @pytest.mark.parametrize(
        ("params", "periods"),
        [
            ("from=2024", ["2024-Q1", "2024-Q2", "2024-06", "2024-07-15"]),
            ("to=2023", ["2023"]),
            ("from=2024-Q2", ["2024-Q2", "2024-06", "2024-07-15"]),
            ("to=2024-Q2", ["2023", "2024-Q1", "2024-Q2", "2024-06"]),
            ("from=2024-06", ["2024-06", "2024-07-15"]),
            ("to=2024-06", ["2023", "2024-Q1", "2024-Q2", "2024-06"]),
            ("from=2024-06-01&to=2024-06-30", ["2024-06"]),
            ("to=2024-07-14", ["2023", "2024-Q1", "2024-Q2", "2024-06"]),
            ("from=2024-07-15&to=2024-07-15", ["2024-07-15"]),
            ("from=2024-04-02", ["2024-06", "2024-07-15"]),
            ("from=2025", []),
        ],
    )
    async def test_from_and_to_keep_periods_within_the_range(
        self, client: AsyncClient, params: str, periods: list[str]
    ) -> None:
        response = await client.get(f"/v1/metrics/zz_volume/observations?{params}")
        assert response.status_code == 200
        assert response.json()["items"] == [row for row in VOLUME if row["period"] in periods]

    async def test_mrv_1_is_the_latest_of_each_series(self, client: AsyncClient) -> None:
        response = await client.get("/v1/metrics/zz_firms/observations?mrv=1")
        assert response.json()["items"] == [FIRMS[2], FIRMS[4], FIRMS[5]]

    async def test_mrv_2_is_the_two_latest_of_each_series_in_period_order(
        self, client: AsyncClient
    ) -> None:
        response = await client.get("/v1/metrics/zz_firms/observations?mrv=2")
        assert response.json()["items"] == [FIRMS[1], FIRMS[2], FIRMS[3], FIRMS[4], FIRMS[5]]

    async def test_mrv_pages_to_the_end(self, client: AsyncClient) -> None:
        items, pages = await walk_pages(client, "/v1/metrics/zz_firms/observations?mrv=2&limit=2")
        assert items == [FIRMS[1], FIRMS[2], FIRMS[3], FIRMS[4], FIRMS[5]]
        assert pages == 3

    async def test_mrv_applies_after_the_period_range(self, client: AsyncClient) -> None:
        response = await client.get("/v1/metrics/zz_firms/observations?mrv=1&to=2023")
        assert response.json()["items"] == [FIRMS[1], FIRMS[3]]

    async def test_bilateral_series_by_counterpart(self, client: AsyncClient) -> None:
        response = await client.get("/v1/metrics/zz_talent_flow/observations")
        assert response.json()["items"] == FLOWS

    async def test_counterpart_filter(self, client: AsyncClient) -> None:
        response = await client.get("/v1/metrics/zz_talent_flow/observations?counterpart=zb")
        assert response.json()["items"] == FLOWS[:2]
        both = await client.get(
            "/v1/metrics/zz_talent_flow/observations?counterpart=XA,ZC&jurisdictions=XA"
        )
        assert both.json()["items"] == [FLOWS[2]]

    async def test_mrv_counts_each_counterpart_as_a_series(self, client: AsyncClient) -> None:
        response = await client.get("/v1/metrics/zz_talent_flow/observations?mrv=1")
        assert response.json()["items"] == FLOWS[1:]

    async def test_unknown_metric_is_404_naming_it(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/metrics/zz_nope/observations"), 404)
        assert body["detail"] == "No metric with key 'zz_nope'."

    async def test_unknown_jurisdiction_or_counterpart_is_404_naming_it(
        self, client: AsyncClient
    ) -> None:
        body = assert_problem(
            await client.get("/v1/metrics/zz_firms/observations?jurisdictions=XA,QQ"), 404
        )
        assert body["detail"] == "No jurisdiction with code 'QQ'."
        body = assert_problem(
            await client.get("/v1/metrics/zz_talent_flow/observations?counterpart=QX"), 404
        )
        assert body["detail"] == "No jurisdiction with code 'QX'."

    async def test_malformed_counterpart_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(
            await client.get("/v1/metrics/zz_talent_flow/observations?counterpart=Z"), 422
        )
        assert body["errors"] == [
            {"loc": ["query", "counterpart"], "msg": "Invalid code 'Z'", "type": "code"}
        ]

    @pytest.mark.parametrize("mrv", ["0", "1001", "x"])
    async def test_mrv_out_of_range_is_422(self, client: AsyncClient, mrv: str) -> None:
        body = assert_problem(await client.get(f"/v1/metrics/zz_firms/observations?mrv={mrv}"), 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "mrv"]]

    async def test_csv(self, client: AsyncClient) -> None:
        rows = csv_rows(await client.get("/v1/metrics/zz_talent_flow/observations?format=csv"))
        assert rows == [
            [
                "jurisdiction_code",
                "metric_key",
                "counterpart_code",
                "period",
                "period_start",
                "period_end",
                "value",
                "bound",
                "confidence",
                "checked_on",
                "source_ids",
                "note",
            ],
            ["XA", "zz_talent_flow", "ZB", "2023", "2023-01-01", "2023-12-31", "120.0"]
            + ["", "verified", "2026-01-15", "", ""],
            ["XA", "zz_talent_flow", "ZB", "2024", "2024-01-01", "2024-12-31", "150.0"]
            + ["", "verified", "2026-01-15", "", ""],
            ["XA", "zz_talent_flow", "ZC", "2024", "2024-01-01", "2024-12-31", "30.0"]
            + ["", "verified", "2026-01-15", "", ""],
            ["ZB", "zz_talent_flow", "XA", "2024", "2024-01-01", "2024-12-31", "20.0"]
            + ["", "verified", "2026-01-15", "", ""],
        ]

    async def test_csv_joins_sources(self, client: AsyncClient) -> None:
        rows = csv_rows(
            await client.get(
                "/v1/metrics/zz_firms/observations?jurisdictions=XA&mrv=1",
                headers={"Accept": "text/csv"},
            )
        )
        assert rows[1:] == [
            ["XA", "zz_firms", "", "2024", "2024-01-01", "2024-12-31", "15.0", "", "reported"]
            + ["2026-01-15", "zz-register;zz-survey", ""]
        ]

    async def test_revalidates_with_etag(self, client: AsyncClient) -> None:
        await assert_not_modified(client, "/v1/metrics/zz_firms/observations?mrv=1")


PERIOD_ERRORS = [
    ("from=2024-13", "from", "'2024-13': month 13 does not exist"),
    ("to=2024-Q5", "to", "'2024-Q5' is not a period (2024, 2024-Q3, 2024-06 or 2024-06-30)"),
    ("to=2023-02-29", "to", "'2023-02-29': day is out of range for month"),
    ("from=24", "from", "'24' is not a period (2024, 2024-Q3, 2024-06 or 2024-06-30)"),
]


@pytest.mark.usefixtures("panel")
class TestListJurisdictionObservations:
    async def test_every_metric_of_the_jurisdiction_in_series_order(
        self, client: AsyncClient
    ) -> None:
        response = await client.get("/v1/jurisdictions/xa/metrics")
        assert response.status_code == 200
        assert response.json() == {
            "items": FIRMS[:3] + FLOWS[:3] + VOLUME,
            "next_cursor": None,
        }

    async def test_metrics_filter_is_case_insensitive(self, client: AsyncClient) -> None:
        response = await client.get("/v1/jurisdictions/XA/metrics?metrics=ZZ_VOLUME,zz_firms")
        assert response.json()["items"] == FIRMS[:3] + VOLUME

    async def test_pages_to_the_end(self, client: AsyncClient) -> None:
        items, pages = await walk_pages(client, "/v1/jurisdictions/XA/metrics?limit=3")
        assert items == FIRMS[:3] + FLOWS[:3] + VOLUME
        assert pages == 4

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ("from=2024", [FIRMS[2], FLOWS[1], FLOWS[2], *VOLUME[1:]]),
            ("to=2023", [FIRMS[0], FIRMS[1], FLOWS[0], VOLUME[0]]),
            ("from=2024-Q2&to=2024-06", [VOLUME[2], VOLUME[3]]),
            ("from=2024-06-30", [VOLUME[4]]),
        ],
    )
    async def test_from_and_to(
        self, client: AsyncClient, params: str, expected: list[dict[str, Any]]
    ) -> None:
        response = await client.get(f"/v1/jurisdictions/XA/metrics?{params}")
        assert response.json()["items"] == expected

    async def test_mrv_1_and_2_per_series(self, client: AsyncClient) -> None:
        one = await client.get("/v1/jurisdictions/XA/metrics?mrv=1")
        assert one.json()["items"] == [FIRMS[2], FLOWS[1], FLOWS[2], VOLUME[4]]
        two = await client.get("/v1/jurisdictions/XA/metrics?mrv=2")
        assert two.json()["items"] == [FIRMS[1], FIRMS[2], FLOWS[0], FLOWS[1], FLOWS[2]] + [
            VOLUME[3],
            VOLUME[4],
        ]

    @pytest.mark.parametrize(("params", "name", "msg"), PERIOD_ERRORS)
    async def test_bad_period_is_422_naming_it(
        self, client: AsyncClient, params: str, name: str, msg: str
    ) -> None:
        body = assert_problem(await client.get(f"/v1/jurisdictions/XA/metrics?{params}"), 422)
        assert body["detail"] == f"{name}: {msg}"
        assert body["errors"] == [{"loc": ["query", name], "msg": msg, "type": "period"}]

    @pytest.mark.parametrize("params", ["from=2024&to=2023", "from=2024-Q3&to=2024-06"])
    async def test_from_after_to_is_422(self, client: AsyncClient, params: str) -> None:
        body = assert_problem(await client.get(f"/v1/jurisdictions/XA/metrics?{params}"), 422)
        assert body["detail"] == "from is after to"
        assert body["errors"] == [
            {"loc": ["query", "from"], "msg": "from is after to", "type": "range"}
        ]

    async def test_overlong_period_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/jurisdictions/XA/metrics?to=2024-06-300"), 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "to"]]

    async def test_unknown_metric_is_404_naming_it(self, client: AsyncClient) -> None:
        body = assert_problem(
            await client.get("/v1/jurisdictions/XA/metrics?metrics=zz_firms,zz_nope,zz_nada"), 404
        )
        assert body["detail"] == "No metric with key 'zz_nope', 'zz_nada'."

    async def test_malformed_metric_key_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/jurisdictions/XA/metrics?metrics=bad-key"), 422)
        assert body["detail"] == "metrics: not keys: bad-key"
        assert body["errors"] == [
            {"loc": ["query", "metrics"], "msg": "Invalid key 'bad-key'", "type": "key"}
        ]

    async def test_unknown_jurisdiction_is_404_naming_it(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/jurisdictions/QQ/metrics"), 404)
        assert body["detail"] == "No jurisdiction with code 'QQ'."

    async def test_csv(self, client: AsyncClient) -> None:
        rows = csv_rows(await client.get("/v1/jurisdictions/XA/metrics?format=csv&mrv=1"))
        assert [row[:7] for row in rows[1:]] == [
            ["XA", "zz_firms", "", "2024", "2024-01-01", "2024-12-31", "15.0"],
            ["XA", "zz_talent_flow", "ZB", "2024", "2024-01-01", "2024-12-31", "150.0"],
            ["XA", "zz_talent_flow", "ZC", "2024", "2024-01-01", "2024-12-31", "30.0"],
            ["XA", "zz_volume", "", "2024-07-15", "2024-07-15", "2024-07-15", "0.5"],
        ]

    async def test_revalidates_with_etag(self, client: AsyncClient) -> None:
        await assert_not_modified(client, "/v1/jurisdictions/XA/metrics?metrics=zz_firms")
