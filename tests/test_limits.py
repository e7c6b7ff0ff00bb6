"""Request limits (body size, rate), security headers and CORS, on apps built with settings
of their own."""

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.config import Settings
from app.core.db import Database
from app.main import create_app
from tests.dataset.sample import sample
from tests.keys.helpers import (
    bearer,
    build_app,
    commit_api_key,
    create_api_key,
    settings_for,
)
from tests.test_errors import assert_problem

AppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_app(settings: Settings, engine: AsyncEngine, session: AsyncSession) -> AppFactory:
    def make(**overrides: Any) -> FastAPI:
        return build_app(settings_for(settings, **overrides), engine, session)

    return make


def _client(app: FastAPI) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://test")


def _source(size: int) -> dict[str, Any]:
    """A valid source body of about `size` bytes."""
    body = {"publisher": "Zed Gazette", "title": "Act", "kind": "law", "note": ""}
    body["note"] = "x" * max(1, size - len(json.dumps(body)))
    return body


class TestBodyLimit:
    @pytest.fixture
    async def client(self, make_app: AppFactory) -> AsyncIterator[AsyncClient]:
        async with _client(make_app(max_body_bytes=2048, max_import_bytes=8192)) as client:
            yield client

    @pytest.fixture
    async def auth(self, session: AsyncSession) -> dict[str, str]:
        return bearer(await create_api_key(session, "admin"))

    async def test_body_under_the_limit_is_accepted(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        response = await client.put("/v1/sources/zz-big", json=_source(2000), headers=auth)
        assert response.status_code == 201

    async def test_body_over_the_limit_is_413_by_content_length(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        response = await client.put("/v1/sources/zz-big", json=_source(2100), headers=auth)
        body = assert_problem(response, 413)
        assert body["detail"] == "The request body is over the limit of 2048 bytes."
        assert_problem(await client.get("/v1/sources/zz-big"), 404)

    async def test_no_key_needed_to_be_refused_for_size(self, client: AsyncClient) -> None:
        assert_problem(await client.put("/v1/sources/zz-big", json=_source(2100)), 413)

    async def test_streamed_body_over_the_limit_is_413(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        payload = json.dumps(_source(3000)).encode()

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(payload), 1000):
                yield payload[start : start + 1000]

        response = await client.put(
            "/v1/sources/zz-big",
            content=chunks(),
            headers={**auth, "content-type": "application/json"},
        )
        assert "content-length" not in response.request.headers
        assert_problem(response, 413)

    async def test_streamed_import_over_the_limit_is_413(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        payload = json.dumps({"sources": [{"id": f"zz-{i}", **_source(200)} for i in range(50)]})

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(payload), 1000):
                yield payload[start : start + 1000].encode()

        response = await client.post(
            "/v1/imports", content=chunks(), headers={**auth, "content-type": "application/json"}
        )
        assert "content-length" not in response.request.headers
        body = assert_problem(response, 413)
        assert body["detail"] == "The request body is over the limit of 8192 bytes."

    async def test_imports_take_a_bigger_body(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        payload = sample()
        assert 2048 < len(json.dumps(payload)) < 8192
        response = await client.post("/v1/imports", json=payload, headers=auth)
        assert response.status_code == 200, response.text

    async def test_imports_over_their_limit_are_413(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        payload = {"sources": [{"id": f"zz-{i}", **_source(200)} for i in range(50)]}
        body = assert_problem(await client.post("/v1/imports", json=payload, headers=auth), 413)
        assert body["detail"] == "The request body is over the limit of 8192 bytes."


class TestRateLimit:
    """On committed data: the limiter checks keys on a connection of its own."""

    @pytest.fixture
    async def limited(
        self, settings: Settings, scratch_database: str
    ) -> AsyncIterator[tuple[AsyncClient, list[dict[str, str]]]]:
        keys = [bearer(await commit_api_key(scratch_database, "write")) for _ in range(2)]
        limits = settings_for(
            settings,
            database_url=scratch_database,
            rate_limit="3/minute",
            write_rate_limit="2/minute",
        )
        database = Database.connect(limits, scratch_database)
        try:
            async with _client(create_app(limits, database=database)) as client:
                yield client, keys
        finally:
            await database.dispose()

    async def test_fourth_read_is_429_with_retry_after(
        self, limited: tuple[AsyncClient, list[dict[str, str]]]
    ) -> None:
        client, _ = limited
        for _ in range(3):
            assert (await client.get("/v1/features")).status_code == 200
        response = await client.get("/v1/jurisdictions")
        body = assert_problem(response, 429)
        retry = int(response.headers["retry-after"])
        assert 1 <= retry <= 60
        assert body["detail"] == (
            f"Rate limit of 3 per 1 minute exceeded for this caller; retry in {retry} s."
        )
        assert response.headers["ratelimit-policy"] == '"read";q=3;w=60'
        assert response.headers["ratelimit"] == f'"read";r=0;t={retry}'

    async def test_every_counted_response_says_what_is_left(
        self, limited: tuple[AsyncClient, list[dict[str, str]]]
    ) -> None:
        client, _ = limited
        responses = [
            await client.get("/v1/features"),
            await client.get("/v1/jurisdictions/ZZ"),
            await client.get("/v1/features", headers={"If-None-Match": "*"}),
        ]
        assert [r.status_code for r in responses] == [200, 404, 304]
        assert {r.headers["ratelimit-policy"] for r in responses} == {'"read";q=3;w=60'}
        left = [r.headers["ratelimit"].split(";")[:2] for r in responses]
        assert left == [['"read"', "r=2"], ['"read"', "r=1"], ['"read"', "r=0"]]
        assert all(1 <= int(r.headers["ratelimit"].split(";t=")[1]) <= 60 for r in responses)

    async def test_each_key_has_its_own_budget(
        self, limited: tuple[AsyncClient, list[dict[str, str]]]
    ) -> None:
        client, (first, second) = limited
        for _ in range(3):
            assert (await client.get("/v1/features")).status_code == 200
        assert_problem(await client.get("/v1/features"), 429)
        for _ in range(3):
            assert (await client.get("/v1/features", headers=first)).status_code == 200
        assert_problem(await client.get("/v1/features", headers=first), 429)
        assert (await client.get("/v1/features", headers=second)).status_code == 200

    async def test_made_up_keys_share_the_address_budget(
        self, limited: tuple[AsyncClient, list[dict[str, str]]]
    ) -> None:
        client, _ = limited
        for _ in range(3):
            await client.get("/v1/features")
        for n in range(3):
            forged = bearer(f"jsk_{n:08x}_forged")
            assert_problem(await client.get("/v1/features", headers=forged), 429)

    async def test_writes_have_their_own_smaller_budget(
        self, limited: tuple[AsyncClient, list[dict[str, str]]]
    ) -> None:
        client, (auth, _) = limited
        for name in ("zz-a", "zz-b"):
            response = await client.put(f"/v1/sources/{name}", json=_source(100), headers=auth)
            assert response.status_code == 201
        refused = await client.put("/v1/sources/zz-c", json=_source(100), headers=auth)
        assert_problem(refused, 429)
        assert refused.headers["ratelimit-policy"] == '"write";q=2;w=60'
        assert (await client.get("/v1/sources/zz-c", headers=auth)).status_code == 404
        assert (await client.get("/v1/sources/zz-a", headers=auth)).status_code == 200

    @pytest.mark.parametrize("path", ["/healthz", "/readyz"])
    async def test_probes_are_never_limited(
        self, limited: tuple[AsyncClient, list[dict[str, str]]], path: str
    ) -> None:
        client, _ = limited
        for _ in range(10):
            assert (await client.get(path)).status_code == 200


class TestSecurityHeaders:
    @pytest.mark.parametrize(
        ("method", "path", "status"),
        [
            ("GET", "/v1/features", 200),
            ("GET", "/v1/features/zz_nope", 404),
            ("GET", "/healthz", 200),
            ("PUT", "/v1/sources/zz-a", 401),
        ],
    )
    async def test_on_every_response(
        self, client: AsyncClient, method: str, path: str, status: int
    ) -> None:
        response = await client.request(method, path, json=_source(100))
        assert response.status_code == status
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"

    async def test_on_answers_of_the_limits(self, make_app: AppFactory) -> None:
        async with _client(make_app(rate_limit="1/minute", max_body_bytes=1024)) as client:
            too_large = await client.put("/v1/sources/zz-a", json=_source(2000))
            await client.get("/v1/features")
            too_many = await client.get("/v1/features")
        for response, status in ((too_large, 413), (too_many, 429)):
            assert response.status_code == status
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["x-frame-options"] == "DENY"


class TestCors:
    @pytest.fixture
    async def client(self, make_app: AppFactory) -> AsyncIterator[AsyncClient]:
        async with _client(make_app(cors_origins=["https://example.org"])) as client:
            yield client

    async def test_preflight_from_an_allowed_origin(self, client: AsyncClient) -> None:
        response = await client.options(
            "/v1/sources/zz-a",
            headers={
                "Origin": "https://example.org",
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "authorization, content-type, if-match",
            },
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://example.org"
        assert "PUT" in response.headers["access-control-allow-methods"]
        allowed = response.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "if-match"} <= {
            h.strip() for h in allowed.split(",")
        }

    async def test_preflight_from_another_origin_is_refused(self, client: AsyncClient) -> None:
        response = await client.options(
            "/v1/sources/zz-a",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"},
        )
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers

    async def test_simple_request_exposes_the_etag(self, client: AsyncClient) -> None:
        response = await client.get("/v1/features", headers={"Origin": "https://example.org"})
        assert response.headers["access-control-allow-origin"] == "https://example.org"
        exposed = {
            h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
        }
        assert {"etag", "link", "location", "retry-after"} <= exposed

    async def test_no_cors_headers_without_configured_origins(self, make_app: AppFactory) -> None:
        async with _client(make_app()) as client:
            response = await client.get("/v1/features", headers={"Origin": "https://example.org"})
        assert "access-control-allow-origin" not in response.headers


async def test_the_in_process_windows_count_as_the_limits_library_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`_Windows` (the limiter without Redis) gives the same answers as `limits`' sliding
    window counter on its memory storage, hit after hit across windows."""
    import time

    from limits import parse
    from limits.aio.storage import MemoryStorage
    from limits.aio.strategies import SlidingWindowCounterRateLimiter

    from app.http.protection import _Windows

    clock = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    item = parse("5/10second")
    reference = SlidingWindowCounterRateLimiter(MemoryStorage())
    ours = _Windows()
    for step in [0.5] * 12 + [3.0, 0.1, 4.2, 0.0, 7.7, 12.0, 0.3, 25.0, 1.0, 1.0]:
        clock[0] += step
        allowed = await reference.hit(item, "t")
        stats = await reference.get_window_stats(item, "t")
        got_allowed, got_remaining, got_reset = ours.hit("t", item.amount, item.get_expiry())
        assert (got_allowed, got_remaining) == (allowed, stats.remaining), clock[0]
        assert got_reset == pytest.approx(stats.reset_time), clock[0]
