"""HTTP conventions shared by every read endpoint: ETag/304, Cache-Control, gzip, CSV, 406,
cursors and limits."""

import ast
import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import app
from app.changes.service import record_change
from app.core import periods
from app.core.config import Settings
from app.core.db import Database, get_read_session, get_session
from app.http import cache as cache_module
from app.http.lists import encode_cursor
from app.main import create_app
from tests.factories import (
    create_event,
    create_feature,
    create_feature_value,
    create_index,
    create_jurisdiction,
    create_metric,
    create_observation,
    create_regulator,
    create_source,
    vacate_region,
)
from tests.test_errors import assert_problem

CACHE_CONTROL = "public, max-age=60"
LETTERS = "ABCDEFGH"


async def walk_pages(client: AsyncClient, url: str) -> tuple[list[Any], int]:
    """Every item of a list, following the `Link: <...>; rel="next"` header to the last page.

    Checks on the way that `next_cursor` and `Link` agree. Returns the items and the number
    of pages."""
    items: list[Any] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        response = await client.get(next_url)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        pages += 1
        assert pages <= 1000, "pagination does not end"
        cursor = body["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            next_url = None
            continue
        link = response.headers["link"]
        assert link.startswith("<") and link.endswith('>; rel="next"')
        next_url = link[1 : link.index(">")]
        assert f"cursor={cursor}" in next_url
    return items, pages


async def assert_not_modified(client: AsyncClient, url: str) -> str:
    """`url` answers 200 with an ETag, and 304 with an empty body to If-None-Match: that ETag.

    Returns the ETag."""
    first = await client.get(url)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == CACHE_CONTROL
    return etag


def csv_rows(response: Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.text)))


@pytest.fixture
async def world(session: AsyncSession) -> None:
    """Two jurisdictions with a value, an observation, an event and a source each, an index,
    and enough jurisdictions (XA..XH) that their list is larger than the gzip threshold."""
    source = await create_source(session, "zz-gazette", kind="law")
    feature = await create_feature(session, "zz_flag")
    metric = await create_metric(session, "zz_firms")
    await vacate_region(session)
    for letter in LETTERS:
        land = await create_jurisdiction(session, f"X{letter}", region="africa")
        await create_regulator(session, land, f"x{letter.lower()}-vaa", name="VA Authority")
        if letter in "AB":
            await create_feature_value(session, land, feature, letter == "A", sources=[source])
            await create_observation(session, land, metric, "2024", 3, sources=[source])
            await create_event(session, land, f"z{letter.lower()}-law", sources=[source])
    await create_index(session, "zz_index", [("feature", feature, 1.0, "boolean")])


LISTS = [
    "/v1/jurisdictions?region=africa",
    "/v1/jurisdictions/XA/features",
    "/v1/jurisdictions/XA/metrics",
    "/v1/jurisdictions/XA/events",
    "/v1/features",
    "/v1/features/zz_flag/values",
    "/v1/metrics",
    "/v1/metrics/zz_firms/observations",
    "/v1/sources?q=zz-",
    "/v1/events?jurisdictions=XA,XB",
    "/v1/changes",
    "/v1/indices/zz_index/scores?jurisdictions=XA,XB",
]
SINGLES = [
    "/v1/jurisdictions/XA",
    "/v1/features/zz_flag",
    "/v1/metrics/zz_firms",
    "/v1/sources/zz-gazette",
    "/v1/indices/zz_index",
]
OTHERS = ["/v1/indices", "/v1/compare?jurisdictions=XA,XB"]
CSV_LISTS = [*LISTS, "/v1/compare?jurisdictions=XA,XB"]


def _with(url: str, params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{params}"


@pytest.mark.usefixtures("world")
class TestEtag:
    @pytest.mark.parametrize("url", LISTS + SINGLES + OTHERS)
    async def test_every_read_revalidates(self, client: AsyncClient, url: str) -> None:
        await assert_not_modified(client, url)

    async def test_another_etag_is_a_full_response(self, client: AsyncClient) -> None:
        for url in ("/v1/jurisdictions?region=africa", "/v1/jurisdictions/XA"):
            response = await client.get(url, headers={"If-None-Match": '"not-the-etag"'})
            assert response.status_code == 200
            assert response.json()
            assert response.headers["etag"] != '"not-the-etag"'

    async def test_weak_star_and_lists_of_etags_match(self, client: AsyncClient) -> None:
        url = "/v1/jurisdictions/XA"
        etag = (await client.get(url)).headers["etag"]
        for header in (f"W/{etag}", "*", f'"other", {etag}'):
            response = await client.get(url, headers={"If-None-Match": header})
            assert response.status_code == 304, header

    async def test_same_representation_same_etag(self, client: AsyncClient) -> None:
        first = await client.get("/v1/jurisdictions?region=africa")
        second = await client.get("/v1/jurisdictions?region=africa")
        assert first.headers["etag"] == second.headers["etag"]

    async def test_a_change_of_data_changes_the_etag(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        url = "/v1/jurisdictions?region=africa&limit=500"
        before = (await client.get(url)).headers["etag"]
        await create_jurisdiction(session, "ZZ-NORTH", region="africa", kind="subdivision")
        response = await client.get(url, headers={"If-None-Match": before})
        assert response.status_code == 200
        assert response.headers["etag"] != before
        assert response.json()["items"][-1]["code"] == "ZZ-NORTH"

    async def test_json_and_csv_have_different_etags(self, client: AsyncClient) -> None:
        url = "/v1/jurisdictions?region=africa"
        as_json = (await client.get(url)).headers["etag"]
        as_csv = await client.get(url, headers={"Accept": "text/csv", "If-None-Match": as_json})
        assert as_csv.status_code == 200
        assert as_csv.headers["etag"] != as_json

    async def test_not_modified_keeps_the_next_link(self, client: AsyncClient) -> None:
        url = "/v1/jurisdictions?region=africa&limit=2"
        first = await client.get(url)
        again = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        assert again.headers["link"] == first.headers["link"]

    async def test_errors_have_no_etag(self, client: AsyncClient) -> None:
        response = await client.get("/v1/jurisdictions/QQ")
        assert response.status_code == 404
        assert "etag" not in response.headers


@pytest.mark.usefixtures("world")
class TestCacheControl:
    @pytest.mark.parametrize("url", LISTS + SINGLES + OTHERS)
    async def test_reads_are_public_for_the_default_max_age(
        self, client: AsyncClient, url: str
    ) -> None:
        response = await client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == CACHE_CONTROL

    @pytest.mark.parametrize(
        ("url", "status", "headers"),
        [
            ("/v1/jurisdictions/QQ", 404, {}),
            ("/v1/features/zz_no_such", 404, {}),
            ("/v1/nowhere", 404, {}),
            ("/v1/jurisdictions?limit=0", 422, {}),
            ("/v1/jurisdictions", 406, {"Accept": "application/xml"}),
        ],
    )
    async def test_errors_are_not_stored(
        self, client: AsyncClient, url: str, status: int, headers: dict[str, str]
    ) -> None:
        response = await client.get(url, headers=headers)
        assert response.status_code == status
        assert response.headers["cache-control"] == "no-store"

    @pytest.mark.parametrize("url", ["/healthz", "/readyz"])
    async def test_probes_are_not_stored(self, client: AsyncClient, url: str) -> None:
        response = await client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert "etag" not in response.headers

    async def test_max_age_is_configurable(
        self, settings: Settings, engine: AsyncEngine, session: AsyncSession
    ) -> None:
        async with _client_with(
            settings.model_copy(update={"cache_max_age": 5}), engine, session
        ) as client:
            response = await client.get("/v1/jurisdictions/XA")
            assert response.headers["cache-control"] == "public, max-age=5"

    @pytest.mark.parametrize("encoding", ["gzip", "identity"])
    async def test_vary_names_each_header_the_representation_depends_on_once(
        self, client: AsyncClient, encoding: str
    ) -> None:
        response = await client.get(
            "/v1/jurisdictions?region=africa&limit=500", headers={"Accept-Encoding": encoding}
        )
        tokens = [token.strip().lower() for token in response.headers["vary"].split(",")]
        assert sorted(tokens) == ["accept", "accept-encoding", "authorization"]

    async def test_vary_on_a_response_too_small_to_compress(self, client: AsyncClient) -> None:
        response = await client.get("/v1/sources/zz-gazette", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in response.headers
        tokens = [token.strip().lower() for token in response.headers["vary"].split(",")]
        assert sorted(tokens) == ["accept", "accept-encoding", "authorization"]


@asynccontextmanager
async def _client_with(
    settings: Settings, engine: AsyncEngine, session: AsyncSession
) -> AsyncIterator[AsyncClient]:
    """A client on an app built with `settings`, reading through the test's session."""
    factory = async_sessionmaker(engine, expire_on_commit=False)
    application = create_app(
        settings,
        database=Database(
            engine=engine, read_engine=engine, sessionmaker=factory, read_sessionmaker=factory
        ),
    )

    async def _session() -> AsyncIterator[AsyncSession]:
        yield session

    application.dependency_overrides[get_session] = _session
    application.dependency_overrides[get_read_session] = _session
    async with AsyncClient(
        transport=ASGITransport(app=application), base_url="http://test"
    ) as client:
        yield client


@pytest.mark.usefixtures("world")
class TestGzip:
    async def test_large_list_is_gzipped_when_asked(self, client: AsyncClient) -> None:
        url = "/v1/jurisdictions?region=africa&limit=500"
        plain = await client.get(url, headers={"Accept-Encoding": "identity"})
        zipped = await client.get(url, headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in plain.headers
        assert zipped.headers["content-encoding"] == "gzip"
        assert int(zipped.headers["content-length"]) < int(plain.headers["content-length"])
        assert zipped.json() == plain.json()
        assert len(zipped.json()["items"]) == len(LETTERS)

    async def test_small_response_is_not_gzipped(self, client: AsyncClient) -> None:
        response = await client.get("/v1/sources/zz-gazette", headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert "content-encoding" not in response.headers

    async def test_gzipped_response_revalidates(self, client: AsyncClient) -> None:
        url = "/v1/jurisdictions?region=africa&limit=500"
        zipped = await client.get(url, headers={"Accept-Encoding": "gzip"})
        again = await client.get(
            url, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]}
        )
        assert again.status_code == 304
        assert again.content == b""


@pytest.mark.usefixtures("world")
class TestCsv:
    @pytest.mark.parametrize("url", CSV_LISTS)
    async def test_accept_and_format_give_the_same_csv(self, client: AsyncClient, url: str) -> None:
        by_accept = await client.get(url, headers={"Accept": "text/csv"})
        by_format = await client.get(_with(url, "format=csv"))
        assert csv_rows(by_accept) == csv_rows(by_format)

    @pytest.mark.parametrize("url", CSV_LISTS)
    async def test_a_csv_path_gives_the_same_csv(self, client: AsyncClient, url: str) -> None:
        path, _, query = url.partition("?")
        by_path = await client.get(
            f"{path}.csv?{query}&format=json", headers={"Accept": "application/json"}
        )
        assert by_path.headers["content-type"] == "text/csv; charset=utf-8"
        assert csv_rows(by_path) == csv_rows(await client.get(_with(url, "format=csv")))

    async def test_a_csv_path_pages_on_with_csv(self, client: AsyncClient) -> None:
        response = await client.get("/v1/jurisdictions.csv?region=africa&limit=2")
        link = response.headers["link"]
        assert link.startswith("</v1/jurisdictions?region=africa&limit=2&format=csv&cursor=")

    async def test_a_csv_path_of_a_json_only_read_is_404(self, client: AsyncClient) -> None:
        assert_problem(await client.get("/v1/indices.csv"), 404)
        assert_problem(await client.get("/v1.csv"), 404)

    async def test_a_csv_path_is_read_only(self, client: AsyncClient) -> None:
        response = await client.post("/v1/metrics/zz_m/observations.csv", json=[])
        assert_problem(response, 405)
        assert response.headers["allow"] == "GET, HEAD"

    @pytest.mark.parametrize("url", [u for u in CSV_LISTS if "compare" not in u])
    async def test_a_header_row_and_one_row_per_item(self, client: AsyncClient, url: str) -> None:
        items = (await client.get(url)).json()["items"]
        rows = csv_rows(await client.get(_with(url, "format=csv")))
        assert len(rows) == 1 + len(items)
        assert len(set(rows[0])) == len(rows[0])
        assert all(len(row) == len(rows[0]) for row in rows)

    async def test_jurisdiction_list_rows(self, client: AsyncClient) -> None:
        rows = csv_rows(await client.get("/v1/jurisdictions?region=africa&format=csv&limit=2"))
        assert rows[0] == [
            "code",
            "name",
            "kind",
            "parent_code",
            "region",
            "currency",
            "regulators",
            "updated_at",
        ]
        assert [row[:7] for row in rows[1:]] == [
            ["XA", "Land XA", "country", "", "africa", "EUR", "xa-vaa"],
            ["XB", "Land XB", "country", "", "africa", "EUR", "xb-vaa"],
        ]

    async def test_csv_pages_carry_the_next_link(self, client: AsyncClient) -> None:
        response = await client.get("/v1/jurisdictions?region=africa&format=csv&limit=2")
        assert response.headers["link"].endswith('>; rel="next"')
        next_url = response.headers["link"][1 : response.headers["link"].index(">")]
        rows = csv_rows(await client.get(next_url))
        assert [row[0] for row in rows[1:]] == ["XC", "XD"]

    async def test_json_preferred_first_is_json(self, client: AsyncClient) -> None:
        response = await client.get(
            "/v1/jurisdictions?region=africa", headers={"Accept": "application/json, text/csv"}
        )
        assert response.headers["content-type"] == "application/json"

    async def test_csv_preferred_first_is_csv(self, client: AsyncClient) -> None:
        response = await client.get(
            "/v1/jurisdictions?region=africa", headers={"Accept": "text/csv, application/json"}
        )
        assert response.headers["content-type"] == "text/csv; charset=utf-8"

    async def test_format_json_wins_over_accept(self, client: AsyncClient) -> None:
        response = await client.get(
            "/v1/jurisdictions?region=africa&format=json", headers={"Accept": "text/csv"}
        )
        assert response.headers["content-type"] == "application/json"

    async def test_unknown_format_is_422(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/v1/jurisdictions?format=xml"), 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "format"]]


@pytest.mark.usefixtures("world")
class TestNotAcceptable:
    @pytest.mark.parametrize("url", LISTS)
    async def test_xml_on_a_list_is_406(self, client: AsyncClient, url: str) -> None:
        body = assert_problem(await client.get(url, headers={"Accept": "application/xml"}), 406)
        assert body["detail"] == (
            "Cannot produce 'application/xml'; this endpoint serves application/json and text/csv."
        )

    @pytest.mark.parametrize("url", SINGLES + ["/v1/indices"])
    async def test_xml_or_csv_on_a_single_resource_is_406(
        self, client: AsyncClient, url: str
    ) -> None:
        for accept in ("application/xml", "text/csv"):
            body = assert_problem(await client.get(url, headers={"Accept": accept}), 406)
            assert body["detail"] == (
                f"Cannot produce {accept!r}; this endpoint serves application/json."
            )

    async def test_wildcards_are_json(self, client: AsyncClient) -> None:
        for accept in ("*/*", "application/*", "application/xml, */*;q=0.1"):
            response = await client.get("/v1/jurisdictions/XA", headers={"Accept": accept})
            assert response.status_code == 200, accept
            assert response.headers["content-type"] == "application/json"


@pytest.mark.usefixtures("world")
class TestQualityValues:
    """RFC 9110 12.5.1: `q` weighs the media ranges; q=0 means "not acceptable"."""

    URL = "/v1/jurisdictions?region=africa"

    @pytest.mark.parametrize(
        ("accept", "content_type"),
        [
            ("text/csv;q=0.5, application/json", "application/json"),
            ("application/json;q=0.1, text/csv;q=0.9", "text/csv; charset=utf-8"),
        ],
    )
    async def test_the_higher_q_wins(
        self, client: AsyncClient, accept: str, content_type: str
    ) -> None:
        response = await client.get(self.URL, headers={"Accept": accept})
        assert response.headers["content-type"] == content_type

    async def test_q_zero_is_not_acceptable(self, client: AsyncClient) -> None:
        response = await client.get(self.URL, headers={"Accept": "text/csv;q=0"})
        assert response.status_code == 406

    async def test_text_wildcard_is_csv(self, client: AsyncClient) -> None:
        response = await client.get(self.URL, headers={"Accept": "text/*"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"


@pytest.mark.usefixtures("world")
class TestHead:
    async def test_head_has_the_headers_of_get_and_no_body(self, client: AsyncClient) -> None:
        get = await client.get("/v1/jurisdictions/XA")
        head = await client.head("/v1/jurisdictions/XA")
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["etag"] == get.headers["etag"]


class TestCursorsAndLimits:
    @pytest.mark.parametrize("url", LISTS)
    @pytest.mark.parametrize(
        "cursor", ["bm90LWpzb24", encode_cursor(["a", "b", "c", "d", "e", "f"])]
    )
    @pytest.mark.usefixtures("world")
    async def test_tampered_cursor_is_422_problem(
        self, client: AsyncClient, url: str, cursor: str
    ) -> None:
        body = assert_problem(await client.get(_with(url, f"cursor={cursor}")), 422)
        assert body["detail"] == "The cursor is not one this API issued; start again without it."
        assert body["errors"] == [
            {"loc": ["query", "cursor"], "msg": "Invalid cursor", "type": "cursor"}
        ]

    @pytest.mark.parametrize(
        ("url", "cursor"),
        [
            ("/v1/features", [1]),
            ("/v1/metrics", [1]),
            ("/v1/sources", [1]),
            ("/v1/jurisdictions", [1]),
            ("/v1/changes", ["abc"]),
            ("/v1/events", ["not-a-date", "x"]),
            ("/v1/events", [1, "x"]),
            ("/v1/features/zz_flag/values", ["XA", "not-a-date"]),
            ("/v1/jurisdictions/XA/features", ["zz_flag", 20200101]),
            ("/v1/metrics/zz_firms/observations", ["XA", "zz_firms", "", "2024-13-01", "2024"]),
            ("/v1/indices/zz_index/scores", ["x"]),
            ("/v1/indices/zz_index/scores", [-1]),
        ],
    )
    @pytest.mark.usefixtures("world")
    async def test_cursor_with_parts_of_the_wrong_type_is_422(
        self, app: Any, url: str, cursor: list[Any]
    ) -> None:
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get(_with(url, f"cursor={encode_cursor(cursor)}"))
        body = assert_problem(response, 422)
        assert body["errors"][0]["loc"] == ["query", "cursor"]

    @pytest.mark.parametrize("url", LISTS)
    @pytest.mark.parametrize("limit", ["0", "501"])
    @pytest.mark.usefixtures("world")
    async def test_limit_out_of_range_is_422(
        self, client: AsyncClient, url: str, limit: str
    ) -> None:
        body = assert_problem(await client.get(_with(url, f"limit={limit}")), 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "limit"]]

    @pytest.mark.parametrize("limit", ["-1", "ten", "1.5", ""])
    async def test_limit_not_a_positive_integer_is_422(
        self, client: AsyncClient, limit: str
    ) -> None:
        body = assert_problem(await client.get(f"/v1/events?limit={limit}"), 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "limit"]]

    async def test_garbage_cursor_is_422(self, client: AsyncClient) -> None:
        for cursor in ("!!!", "%00", "x" * 600):
            body = assert_problem(await client.get(f"/v1/events?cursor={cursor}"), 422)
            assert [e["loc"] for e in body["errors"]] == [["query", "cursor"]], cursor

    @pytest.mark.parametrize("url", LISTS)
    @pytest.mark.usefixtures("world")
    async def test_limit_bounds_are_accepted(self, client: AsyncClient, url: str) -> None:
        for limit in ("1", "500"):
            assert (await client.get(_with(url, f"limit={limit}"))).status_code == 200

    @pytest.mark.usefixtures("world")
    async def test_next_link_keeps_the_other_parameters(self, client: AsyncClient) -> None:
        response = await client.get("/v1/jurisdictions?region=africa&kind=country&limit=3")
        link = response.headers["link"]
        cursor = response.json()["next_cursor"]
        assert link == (
            f'</v1/jurisdictions?region=africa&kind=country&limit=3&cursor={cursor}>; rel="next"'
        )

    async def test_a_cursor_replaces_the_previous_one_in_the_link(
        self, client: AsyncClient, world: None
    ) -> None:
        items, pages = await walk_pages(client, "/v1/jurisdictions?region=africa&limit=3")
        assert [item["code"] for item in items] == [f"X{c}" for c in LETTERS]
        assert pages == 3


class TestResponseCache:
    """The response cache (on by default) on committed data: a cached answer is never stale."""

    @staticmethod
    def _app(url: str) -> tuple[Any, Database]:
        settings = Settings(env="test", database_url=url, response_cache_entries=64)
        database = Database.connect(settings, url)
        return create_app(settings, database=database), database

    async def test_the_default_as_of_moves_with_the_day(
        self, scratch_database: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        app, database = self._app(scratch_database)
        async with database.sessionmaker() as session:
            land = await create_jurisdiction(session, "XA")
            flag = await create_feature(session, "zz_flag")
            await create_feature_value(session, land, flag, False, valid_to=date(2030, 1, 1))
            await create_feature_value(session, land, flag, True, valid_from=date(2030, 1, 1))
            await session.commit()
        url = "/v1/features/zz_flag/values"
        try:
            async with AsyncClient(
                transport=ASGITransport(app=app), base_url="http://test"
            ) as client:
                # The day turns for the whole process: the default as_of (app.core.periods,
                # the one place it is resolved) and the cache's key alike.
                for module in (periods, cache_module):
                    monkeypatch.setattr(module, "today", lambda: date(2029, 12, 31))
                before = await client.get(url)
                for module in (periods, cache_module):
                    monkeypatch.setattr(module, "today", lambda: date(2030, 1, 1))
                after = await client.get(url)
        finally:
            await database.dispose()
        assert [item["value"] for item in before.json()["items"]] == [False]
        assert [item["value"] for item in after.json()["items"]] == [True]

    async def test_a_write_committed_after_a_later_one_is_seen(self, scratch_database: str) -> None:
        """Change ids are taken at insert time, so a slow write can hold a lower id than a
        fast one that commits first. The data version is bumped in commit order (writers take
        its row lock in turn), so an answer cached between the two commits is not served
        after the slow one."""
        app, database = self._app(scratch_database)
        change: dict[str, Any] = {
            "actor": "t",
            "entity": "source",
            "action": "create",
            "before": None,
        }
        try:
            async with (
                database.sessionmaker() as slow,
                database.sessionmaker() as fast,
                AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
            ):
                first = await record_change(slow, entity_key="zz-a", after={"n": 1}, **change)
                # The fast writer waits for the slow one's lock on the data version.
                fast_write = asyncio.create_task(
                    record_change(fast, entity_key="zz-b", after={"n": 2}, **change)
                )
                before = await client.get("/v1/changes")
                await slow.commit()
                second = await fast_write
                middle = await client.get("/v1/changes")
                await fast.commit()
                after = await client.get("/v1/changes")
        finally:
            await database.dispose()
        assert before.json()["items"] == []
        assert [item["id"] for item in middle.json()["items"]] == [first]
        assert [item["id"] for item in after.json()["items"]] == [first, second]


def _module_imports(tree: ast.Module, module: str, is_package: bool) -> Iterator[str]:
    """The `app` modules a module imports when it is imported: its top-level import
    statements (inside `if`/`try` too, but not under `if TYPE_CHECKING:`), never the imports
    inside functions."""

    def walk(body: list[ast.stmt]) -> Iterator[ast.stmt]:
        for statement in body:
            if isinstance(statement, ast.If):
                if ast.unparse(statement.test) not in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                    yield from walk(statement.body)
                yield from walk(statement.orelse)
            elif isinstance(statement, ast.Try):
                for block in (statement.body, statement.orelse, statement.finalbody):
                    yield from walk(block)
                for handler in statement.handlers:
                    yield from walk(handler.body)
            else:
                yield statement

    package = module if is_package else module.rpartition(".")[0]
    for statement in walk(tree.body):
        if isinstance(statement, ast.Import):
            yield from (alias.name for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom):
            base = statement.module or ""
            if statement.level:
                parent = package.rsplit(".", statement.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            yield base
            # `from app.x import y` imports the module app.x.y when there is one.
            yield from (f"{base}.{alias.name}" for alias in statement.names)


def app_import_graph() -> dict[str, set[str]]:
    """Module name -> the `app` modules it imports at module level (see _module_imports)."""
    root = Path(app.__file__).parent
    files = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        files[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    graph: dict[str, set[str]] = {}
    for module, (path, is_package) in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[module] = {
            name
            for name in _module_imports(tree, module, is_package)
            if name in files and name != module
        }
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


class TestImports:
    def test_no_module_imports_one_that_imports_it_back(self) -> None:
        assert import_cycles(app_import_graph()) == []

    def test_the_cycle_check_finds_a_cycle(self) -> None:
        graph = {"app.a": {"app.b"}, "app.b": {"app.c"}, "app.c": {"app.a"}, "app.d": {"app.a"}}
        assert import_cycles(graph) == [["app.a", "app.b", "app.c"]]

    def test_the_graph_counts_module_level_imports_only(self) -> None:
        graph = app_import_graph()
        # app.health imports the migrations runner at module level; the command line loads
        # its commands only when run.
        assert "app.cli.migrate" in graph["app.health"]
        assert graph["app.cli"] == set()


# The packages that call the dataset: its HTTP faces and the command line. Every other
# package (the domains, core, http, scoring, ...) owns its rules and writers, and the dataset
# calls them in batches, never the other way round (STYLE.md: dataset -> domains).
DATASET_CALLERS = ("dataset", "imports", "exports", "cli")


def dataset_imports(root: Path) -> dict[str, list[str]]:
    """Module path -> the `app.dataset` modules it imports anywhere (inside functions and
    under TYPE_CHECKING too), for each module outside the dataset's callers."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if len(parts) > 1 and parts[0] in DATASET_CALLERS:
            continue
        names = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        hits = sorted({n for n in names if n == "app.dataset" or n.startswith("app.dataset.")})
        if hits:
            found[str(path.relative_to(root.parent))] = hits
    return found


class TestDependencyDirection:
    def test_no_domain_imports_the_dataset(self) -> None:
        assert dataset_imports(Path(app.__file__).parent) == {}

    def test_the_check_finds_an_import_of_the_dataset(self, tmp_path: Path) -> None:
        (tmp_path / "features").mkdir()
        (tmp_path / "features" / "service.py").write_text(
            "def f() -> None:\n    from app.dataset import loader\n", encoding="utf-8"
        )
        (tmp_path / "imports").mkdir()
        (tmp_path / "imports" / "router.py").write_text(
            "from app.dataset import bulk\n", encoding="utf-8"
        )
        assert dataset_imports(tmp_path) == {
            f"{tmp_path.name}/features/service.py": ["app.dataset", "app.dataset.loader"]
        }


def _readme_layout() -> str:
    readme = (Path(app.__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("```\napp/\n")
    return readme[start : readme.index("```", start + 3)]


class TestLayout:
    def test_the_readme_names_every_package_and_shared_module(self) -> None:
        root = Path(app.__file__).parent
        layout = _readme_layout()
        names = [
            f"{path.name}/" if path.is_dir() else path.name
            for path in root.iterdir()
            if (path.is_dir() and (path / "__init__.py").exists())
            or (path.suffix == ".py" and path.name != "__init__.py")
        ]
        names += [
            path.name
            for package in ("core", "http", "cli")
            for path in (root / package).glob("*.py")
            if path.name not in ("__init__.py", "__main__.py")
        ]
        assert [name for name in names if not re.search(rf"(?<![\w/]){name}", layout)] == []

    def test_every_module_the_readme_names_exists(self) -> None:
        root = Path(app.__file__).parent
        for name in re.findall(r"[\w/]+\.py", _readme_layout()):
            found = (root / name).exists() if "/" in name else any(root.rglob(name))
            assert found, name
