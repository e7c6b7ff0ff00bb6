from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import create_source
from tests.test_conventions import assert_not_modified, csv_rows, walk_pages
from tests.test_errors import assert_problem

ALPHA = {
    "id": "zz-alpha-act",
    "publisher": "Zedland Parliament",
    "title": "Virtual Assets Act 2023",
    "url": "https://example.org/zz-alpha-act",
    "published_on": "2023-03-01",
    "accessed_on": "2025-01-15",
    "kind": "law",
    "note": "Primary source.",
}
BETA = {
    "id": "zz-beta-circular",
    "publisher": "Zedland Virtual Asset Authority",
    "title": "Circular on stablecoins",
    "url": "https://example.org/zz-beta-circular",
    "published_on": None,
    "accessed_on": None,
    "kind": "regulator",
    "note": None,
}
GAMMA = {
    "id": "zz-gamma-news",
    "publisher": "Zed Times",
    "title": "Trading volume up 100% in a year",
    "url": None,
    "published_on": "2024-11-02",
    "accessed_on": None,
    "kind": "news",
    "note": "Reported second-hand: the survey it cites could not be found.",
}
SOURCES: list[dict[str, Any]] = [ALPHA, BETA, GAMMA]


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@pytest.fixture
async def sources(session: AsyncSession) -> None:
    for source in reversed(SOURCES):
        fields: dict[str, Any] = {k: v for k, v in source.items() if k != "id"}
        fields["published_on"] = _date(source["published_on"])
        fields["accessed_on"] = _date(source["accessed_on"])
        await create_source(session, source["id"], **fields)


@pytest.mark.usefixtures("sources")
class TestListSources:
    async def test_search_by_id_in_id_order(self, client: AsyncClient) -> None:
        response = await client.get("/v1/sources?q=zz-")
        assert response.status_code == 200
        assert response.json() == {"items": SOURCES, "next_cursor": None}

    async def test_pages_to_the_end(self, client: AsyncClient) -> None:
        items, pages = await walk_pages(client, "/v1/sources?q=zz-&limit=1")
        assert items == SOURCES
        assert pages == 3

    async def test_default_page_is_50(self, client: AsyncClient, session: AsyncSession) -> None:
        for n in range(48):
            await create_source(session, f"zz-extra-{n:02}")
        response = await client.get("/v1/sources?q=zz-")
        body = response.json()
        assert len(body["items"]) == 50
        assert body["items"][-1]["id"] == "zz-extra-47"
        rest = await client.get(response.headers["link"][1 : response.headers["link"].index(">")])
        assert rest.json() == {"items": [GAMMA], "next_cursor": None}

    async def test_whole_list_pages_in_id_order(self, client: AsyncClient) -> None:
        items, _ = await walk_pages(client, "/v1/sources?limit=500")
        ids = [item["id"] for item in items]
        assert ids == sorted(set(ids))
        assert [i for i in ids if i.startswith("zz-")] == ["zz-alpha-act", "zz-beta-circular"] + [
            "zz-gamma-news"
        ]

    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("zedland PARLIAMENT", [ALPHA]),  # publisher, case-insensitive
            ("circular on", [BETA]),  # title
            ("zz-gamma", [GAMMA]),  # id
            ("100%", [GAMMA]),  # % is a literal, not a wildcard
            ("zz-_lpha", []),  # so is _
        ],
    )
    async def test_q_searches_titles_publishers_and_ids(
        self, client: AsyncClient, q: str, expected: list[dict[str, Any]]
    ) -> None:
        response = await client.get("/v1/sources", params={"q": q})
        assert [item for item in response.json()["items"] if item["id"].startswith("zz-")] == (
            expected
        )

    async def test_kind_filter(self, client: AsyncClient) -> None:
        response = await client.get("/v1/sources?q=zz-&kind=regulator")
        assert response.json()["items"] == [BETA]
        laws, _ = await walk_pages(client, "/v1/sources?kind=law&limit=500")
        assert {item["kind"] for item in laws} == {"law"}
        assert ALPHA in laws

    async def test_unknown_kind_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/sources?kind=rumour"), 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "kind"]]

    async def test_empty_q_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/sources?q="), 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "q"]]

    async def test_csv(self, client: AsyncClient) -> None:
        rows = csv_rows(await client.get("/v1/sources?q=zz-&format=csv"))
        assert rows == [
            ["id", "publisher", "title", "url", "published_on", "accessed_on", "kind", "note"],
            [
                "zz-alpha-act",
                "Zedland Parliament",
                "Virtual Assets Act 2023",
                "https://example.org/zz-alpha-act",
                "2023-03-01",
                "2025-01-15",
                "law",
                "Primary source.",
            ],
            [
                "zz-beta-circular",
                "Zedland Virtual Asset Authority",
                "Circular on stablecoins",
                "https://example.org/zz-beta-circular",
                "",
                "",
                "regulator",
                "",
            ],
            [
                "zz-gamma-news",
                "Zed Times",
                "Trading volume up 100% in a year",
                "",
                "2024-11-02",
                "",
                "news",
                "Reported second-hand: the survey it cites could not be found.",
            ],
        ]

    async def test_revalidates_with_etag(self, client: AsyncClient) -> None:
        await assert_not_modified(client, "/v1/sources?q=zz-")


@pytest.mark.usefixtures("sources")
class TestGetSource:
    async def test_one_source(self, client: AsyncClient) -> None:
        response = await client.get("/v1/sources/zz-gamma-news")
        assert response.status_code == 200
        assert response.json() == GAMMA

    async def test_id_is_case_insensitive(self, client: AsyncClient) -> None:
        response = await client.get("/v1/sources/ZZ-Alpha-Act")
        assert response.json() == ALPHA

    async def test_unknown_id_is_404_naming_it(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/sources/zz-missing"), 404)
        assert body["detail"] == "No source with id 'zz-missing'."

    async def test_malformed_id_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/sources/zz_under_score"), 422)
        assert [e["loc"] for e in body["errors"]] == [["path", "id"]]

    async def test_revalidates_with_etag(self, client: AsyncClient) -> None:
        await assert_not_modified(client, "/v1/sources/zz-alpha-act")

    async def test_bundled_sources_resolve(self, client: AsyncClient) -> None:
        first = (await client.get("/v1/sources?limit=1")).json()["items"][0]
        assert (await client.get(f"/v1/sources/{first['id']}")).json() == first
