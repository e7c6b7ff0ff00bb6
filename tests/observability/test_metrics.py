"""GET /metrics: requests by route template, method and status; in-flight requests; the
response cache; the database pools; rate-limit rejections; the data version."""

import asyncio

from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.config import Settings
from app.core.db import Database, create_engine
from app.main import create_app
from tests.keys.helpers import build_app, settings_for
from tests.observability.conftest import CapturedLog, delta, parse_samples, sample, scrape
from tests.test_cache import world  # noqa: F401  (fixture: committed sample data)

ROUTE = "/v1/jurisdictions/{code}"


class TestRequests:
    async def test_requests_by_route_template_method_and_status(self, client: AsyncClient) -> None:
        before = await scrape(client)
        for code in ("HK", "SG", "XX"):
            await client.get(f"/v1/jurisdictions/{code}")
        await client.head("/v1/jurisdictions/HK")
        change = delta(before, await scrape(client))
        requests = "juriscope_http_requests_total"
        assert change(requests, method="GET", route=ROUTE, status="200") == 2
        assert change(requests, method="GET", route=ROUTE, status="404") == 1
        assert change(requests, method="HEAD", route=ROUTE, status="200") == 1
        latency = "juriscope_http_request_duration_seconds_count"
        assert change(latency, method="GET", route=ROUTE, status="200") == 2
        buckets = "juriscope_http_request_duration_seconds_bucket"
        assert change(buckets, method="GET", route=ROUTE, status="200", le="+Inf") == 2
        # The raw path is never a label: one series per template.
        assert not any("HK" in str(labels) for _, labels in before)

    async def test_in_flight_requests_count_the_scrape_itself(self, client: AsyncClient) -> None:
        samples = await scrape(client)
        assert sample(samples, "juriscope_http_requests_in_progress") >= 1

    async def test_not_in_the_openapi_document(self, client: AsyncClient) -> None:
        document = (await client.get("/openapi.json")).json()
        assert "/metrics" not in document["paths"]

    async def test_the_data_version_is_the_database_one(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        version = await session.scalar(text("SELECT version FROM data_version WHERE id = 1"))
        samples = await scrape(client)
        assert sample(samples, "juriscope_data_version") == version

    async def test_prometheus_text_format(self, client: AsyncClient) -> None:
        response = await client.get("/metrics")
        assert response.headers["content-type"].startswith("text/plain; version=")
        assert response.headers["cache-control"] == "no-store"


class TestProtection:
    async def test_not_rate_limited(
        self, settings: Settings, engine: AsyncEngine, session: AsyncSession
    ) -> None:
        app = build_app(settings_for(settings, rate_limit="2/minute"), engine, session)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
            statuses = [(await client.get("/metrics")).status_code for _ in range(5)]
            before = parse_samples((await client.get("/metrics")).text)
            limited = [(await client.get("/v1/jurisdictions")).status_code for _ in range(3)]
            change = delta(before, await scrape(client))
        assert statuses == [200] * 5
        assert limited == [200, 200, 429]
        assert change("juriscope_rate_limit_rejections_total", kind="read") == 1
        assert (
            change(
                "juriscope_http_requests_total",
                method="GET",
                route="/v1/jurisdictions",
                status="429",
            )
            == 1
        )

    async def test_a_metrics_token_guards_it(
        self, settings: Settings, engine: AsyncEngine, session: AsyncSession
    ) -> None:
        app = build_app(settings_for(settings, metrics_token="s3cret-token"), engine, session)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
            missing = await client.get("/metrics")
            wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
            right = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.headers["www-authenticate"] == "Bearer"
        assert "juriscope_http_requests_total" in right.text


class TestResponseCache:
    async def test_hits_misses_and_bytes(self, world: str, captured_log: CapturedLog) -> None:  # noqa: F811
        settings = Settings(env="test", database_url=world, response_cache_entries=64)
        database = Database.connect(settings, world)
        app = create_app(settings, database=database)
        url = "/v1/compare?jurisdictions=QA,QB&features=qq_retail"
        try:
            async with AsyncClient(transport=ASGITransport(app=app), base_url="http://c") as client:
                before = await scrape(client)
                cold = await client.get(url, headers={"X-Request-ID": "cold"})
                warm = await client.get(url, headers={"X-Request-ID": "warm"})
                change = delta(before, await scrape(client))
        finally:
            await database.dispose()
        assert (cold.headers["x-cache"], warm.headers["x-cache"]) == ("miss", "hit")
        assert change("juriscope_response_cache_misses_total") == 1
        assert change("juriscope_response_cache_hits_total") == 1
        # An entry holds both representations: the identity body and the gzip one.
        assert warm.headers["content-encoding"] == "gzip"
        assert change("juriscope_response_cache_bytes") == (
            len(cold.content) + warm.num_bytes_downloaded
        )
        assert change("juriscope_response_cache_entries") == 1
        assert (
            change("juriscope_http_requests_total", method="GET", route="/v1/compare", status="200")
            == 2
        )
        [hit] = captured_log.requests("warm")
        assert (hit["cache"], hit["route"]) == ("hit", "/v1/compare")
        assert captured_log.requests("cold")[0]["cache"] == "miss"


class TestDatabasePool:
    async def test_size_checked_out_and_waits(self, database_url: str) -> None:
        settings = Settings(env="test", database_url=database_url, pool_size=1, pool_max_overflow=0)
        engine = create_engine(settings, database_url, pool_name="read")
        app = create_app(settings, database=Database.connect(settings, database_url))
        try:
            async with AsyncClient(transport=ASGITransport(app=app), base_url="http://p") as client:
                before = await scrape(client)
                async with engine.connect() as held:
                    await held.execute(text("SELECT 1"))
                    during = await scrape(client)
                    waiting = asyncio.create_task(_connect_once(engine))
                    await asyncio.sleep(0.2)
                    assert not waiting.done()
                await waiting
                change = delta(before, await scrape(client))
        finally:
            await engine.dispose()
            await app.state.db.dispose()
        assert sample(during, "juriscope_db_pool_size", pool="read") == 1
        assert sample(during, "juriscope_db_pool_checked_out", pool="read") == 1
        assert change("juriscope_db_pool_waits_total", pool="read") == 1
        assert sample(during, "juriscope_db_pool_size", pool="primary") == 1


async def _connect_once(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def test_the_dashboard_uses_only_metrics_that_exist() -> None:
    import json
    import re
    from pathlib import Path

    from prometheus_client import REGISTRY

    dashboard = json.loads(
        (Path(__file__).parents[2] / "docs" / "grafana-dashboard.json").read_text()
    )
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"juriscope_\w+", target["expr"])
    }
    known = {
        sample_name
        for family in REGISTRY.collect()
        for sample_name in (family.name, f"{family.name}_total", f"{family.name}_bucket")
    } | {"juriscope_data_version"}
    assert used and used <= known, used - known
