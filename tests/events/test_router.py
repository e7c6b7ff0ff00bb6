from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import create_event, create_jurisdiction, create_source
from tests.test_conventions import assert_not_modified, csv_rows, walk_pages
from tests.test_errors import assert_problem


def event(slug: str, code: str, day: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": slug,
        "jurisdiction_code": code,
        "date": day,
        "kind": kind,
        "title": f"Title of {slug}",
        "summary": None,
        "source_ids": [],
    } | fields


# In timeline order: by date, then id (three events share 2023-06-01, across jurisdictions).
CONSULTATION = event("zb-consultation", "ZB", "2022-11-15", "consultation")
ENACTED = event(
    "xa-act-enacted", "XA", "2023-03-01", "law_enacted", source_ids=["zz-gazette", "zz-law"]
)
EFFECTIVE = event("xa-act-effective", "XA", "2023-06-01", "law_effective")
EXIT = event("xa-exit", "XA", "2023-06-01", "market_exit")
ENTRY = event("zb-a-entry", "ZB", "2023-06-01", "market_entry")
LICENCE = event("zb-licence", "ZB", "2024-01-10", "licence_granted")
TIMELINE = [CONSULTATION, ENACTED, EFFECTIVE, EXIT, ENTRY, LICENCE]


@pytest.fixture
async def timeline(session: AsyncSession) -> None:
    lands = {code: await create_jurisdiction(session, code) for code in ("XA", "ZB", "ZC")}
    sources = {slug: await create_source(session, slug) for slug in ("zz-law", "zz-gazette")}
    for row in reversed(TIMELINE):
        await create_event(
            session,
            lands[row["jurisdiction_code"]],
            row["id"],
            event_date=date.fromisoformat(row["date"]),
            kind=row["kind"],
            title=row["title"],
            sources=[sources[slug] for slug in row["source_ids"]],
        )


@pytest.mark.usefixtures("timeline")
class TestListEvents:
    async def test_by_date_then_id(self, client: AsyncClient) -> None:
        response = await client.get("/v1/events?jurisdictions=XA,zb")
        assert response.status_code == 200
        assert response.json() == {"items": TIMELINE, "next_cursor": None}
        assert "link" not in response.headers

    async def test_jurisdictions_filter(self, client: AsyncClient) -> None:
        response = await client.get("/v1/events?jurisdictions=XA")
        assert response.json()["items"] == [ENACTED, EFFECTIVE, EXIT]
        none = await client.get("/v1/events?jurisdictions=ZC")
        assert none.json() == {"items": [], "next_cursor": None}

    @pytest.mark.parametrize(("limit", "pages"), [(1, 6), (2, 3), (3, 2), (4, 2)])
    async def test_pages_to_the_end_through_ties(
        self, client: AsyncClient, limit: int, pages: int
    ) -> None:
        items, walked = await walk_pages(client, f"/v1/events?jurisdictions=XA,ZB&limit={limit}")
        assert items == TIMELINE
        assert walked == pages

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ("from=2023-06", [EFFECTIVE, EXIT, ENTRY, LICENCE]),
            ("to=2023", [CONSULTATION, ENACTED, EFFECTIVE, EXIT, ENTRY]),
            ("from=2023-Q2&to=2023-Q2", [EFFECTIVE, EXIT, ENTRY]),
            ("from=2023-03-01&to=2023-06-01", [ENACTED, EFFECTIVE, EXIT, ENTRY]),
            ("from=2023-03-02&to=2023-05-31", []),
            ("from=2024", [LICENCE]),
            ("to=2022-11-14", []),
        ],
    )
    async def test_from_and_to_are_inclusive(
        self, client: AsyncClient, params: str, expected: list[dict[str, Any]]
    ) -> None:
        response = await client.get(f"/v1/events?jurisdictions=XA,ZB&{params}")
        assert response.json()["items"] == expected

    async def test_kind_is_repeatable(self, client: AsyncClient) -> None:
        response = await client.get(
            "/v1/events?jurisdictions=XA,ZB&kind=market_exit&kind=consultation&kind=market_entry"
        )
        assert response.json()["items"] == [CONSULTATION, EXIT, ENTRY]

    async def test_filters_combine(self, client: AsyncClient) -> None:
        response = await client.get(
            "/v1/events?jurisdictions=ZB&kind=market_entry&kind=licence_granted&from=2023-07"
        )
        assert response.json()["items"] == [LICENCE]

    async def test_unknown_kind_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/events?kind=law_effective&kind=coup"), 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "kind", 1]]

    async def test_unknown_jurisdiction_is_404_naming_it(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/events?jurisdictions=XA,QQ"), 404)
        assert body["detail"] == "No jurisdiction with code 'QQ'."

    async def test_malformed_jurisdiction_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/events?jurisdictions=XA,ZB-"), 422)
        assert body["errors"] == [
            {"loc": ["query", "jurisdictions"], "msg": "Invalid code 'ZB-'", "type": "code"}
        ]

    async def test_empty_jurisdictions_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/events?jurisdictions=,"), 422)
        assert body["detail"] == "jurisdictions is empty"

    async def test_bad_period_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/events?from=2023-00"), 422)
        assert body["errors"] == [
            {
                "loc": ["query", "from"],
                "msg": "'2023-00': month 0 does not exist",
                "type": "period",
            }
        ]

    async def test_from_after_to_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/events?from=2024-01-11&to=2024-01-10"), 422)
        assert body["detail"] == "from is after to"

    async def test_csv(self, client: AsyncClient) -> None:
        rows = csv_rows(await client.get("/v1/events?jurisdictions=XA&format=csv"))
        assert rows == [
            ["id", "jurisdiction_code", "date", "kind", "title", "summary", "source_ids"],
            ["xa-act-enacted", "XA", "2023-03-01", "law_enacted", "Title of xa-act-enacted"]
            + ["", "zz-gazette;zz-law"],
            ["xa-act-effective", "XA", "2023-06-01", "law_effective", "Title of xa-act-effective"]
            + ["", ""],
            ["xa-exit", "XA", "2023-06-01", "market_exit", "Title of xa-exit", "", ""],
        ]

    async def test_revalidates_with_etag(self, client: AsyncClient) -> None:
        await assert_not_modified(client, "/v1/events?jurisdictions=XA,ZB&kind=market_exit")

    async def test_whole_timeline_is_in_date_order(self, client: AsyncClient) -> None:
        items, _ = await walk_pages(client, "/v1/events?limit=500")
        keys = [(item["date"], item["id"]) for item in items]
        assert keys == sorted(set(keys))
        assert [item for item in items if item["jurisdiction_code"] in ("XA", "ZB")] == TIMELINE


@pytest.mark.usefixtures("timeline")
class TestListJurisdictionEvents:
    async def test_its_timeline(self, client: AsyncClient) -> None:
        response = await client.get("/v1/jurisdictions/zb/events")
        assert response.status_code == 200
        assert response.json() == {"items": [CONSULTATION, ENTRY, LICENCE], "next_cursor": None}

    async def test_pages_to_the_end(self, client: AsyncClient) -> None:
        items, pages = await walk_pages(client, "/v1/jurisdictions/XA/events?limit=2")
        assert items == [ENACTED, EFFECTIVE, EXIT]
        assert pages == 2

    async def test_from_to_and_kind(self, client: AsyncClient) -> None:
        response = await client.get(
            "/v1/jurisdictions/XA/events?from=2023-06-01&to=2023-Q4&kind=market_exit"
        )
        assert response.json()["items"] == [EXIT]
        kinds = await client.get(
            "/v1/jurisdictions/XA/events?kind=law_enacted&kind=law_effective&to=2023-05"
        )
        assert kinds.json()["items"] == [ENACTED]

    async def test_no_events_is_an_empty_list(self, client: AsyncClient) -> None:
        response = await client.get("/v1/jurisdictions/ZC/events")
        assert response.json() == {"items": [], "next_cursor": None}

    async def test_unknown_jurisdiction_is_404_naming_it(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/jurisdictions/QQ/events"), 404)
        assert body["detail"] == "No jurisdiction with code 'QQ'."

    async def test_from_after_to_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(
            await client.get("/v1/jurisdictions/XA/events?from=2024&to=2023"), 422
        )
        assert body["detail"] == "from is after to"

    async def test_csv(self, client: AsyncClient) -> None:
        rows = csv_rows(
            await client.get("/v1/jurisdictions/ZB/events", headers={"Accept": "text/csv"})
        )
        assert [row[0] for row in rows] == ["id", "zb-consultation", "zb-a-entry", "zb-licence"]

    async def test_revalidates_with_etag(self, client: AsyncClient) -> None:
        await assert_not_modified(client, "/v1/jurisdictions/ZB/events")
