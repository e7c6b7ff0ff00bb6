"""Request ids: given or made, returned on every response, in problem bodies and in the
request's log event, whose fields are checked here too."""

import re

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.keys.helpers import bearer, create_api_key
from tests.observability.conftest import CapturedLog

GENERATED = re.compile(r"^[0-9a-f]{32}$")


class TestRequestId:
    async def test_a_well_formed_id_is_echoed(self, client: AsyncClient) -> None:
        response = await client.get(
            "/v1/jurisdictions/HK", headers={"X-Request-ID": "abc-123.x:y_z"}
        )
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "abc-123.x:y_z"

    async def test_one_is_made_when_none_is_given(self, client: AsyncClient) -> None:
        first = await client.get("/healthz")
        second = await client.get("/healthz")
        assert GENERATED.match(first.headers["x-request-id"])
        assert first.headers["x-request-id"] != second.headers["x-request-id"]

    async def test_a_malformed_or_long_id_is_replaced(self, client: AsyncClient) -> None:
        for given in ("a" * 129, "two words", "<script>", "é".encode()):
            raw = given if isinstance(given, bytes) else given.encode()
            response = await client.get("/healthz", headers={b"X-Request-ID": raw})
            assert GENERATED.match(response.headers["x-request-id"]), given

    async def test_a_problem_body_names_the_id(self, client: AsyncClient) -> None:
        response = await client.get("/v1/jurisdictions/XX", headers={"X-Request-ID": "report-me"})
        assert response.status_code == 404
        assert response.headers["x-request-id"] == "report-me"
        assert response.json()["request_id"] == "report-me"

    async def test_a_made_id_is_in_the_problem_body_too(self, client: AsyncClient) -> None:
        response = await client.get("/v1/jurisdictions?limit=0")
        assert response.status_code == 422
        assert response.json()["request_id"] == response.headers["x-request-id"]

    async def test_a_problem_from_middleware_names_the_id(self, client: AsyncClient) -> None:
        response = await client.get("/v1/jurisdictions/a%2Fb", headers={"X-Request-ID": "slash"})
        assert response.status_code == 404
        assert response.headers["x-request-id"] == "slash"
        assert response.json()["request_id"] == "slash"

    async def test_a_304_carries_the_id(self, client: AsyncClient) -> None:
        etag = (await client.get("/v1/jurisdictions/HK")).headers["etag"]
        response = await client.get(
            "/v1/jurisdictions/HK", headers={"If-None-Match": etag, "X-Request-ID": "cached"}
        )
        assert response.status_code == 304
        assert response.headers["x-request-id"] == "cached"

    async def test_a_head_carries_the_id(self, client: AsyncClient) -> None:
        response = await client.head("/v1/jurisdictions/HK", headers={"X-Request-ID": "head"})
        assert (response.status_code, response.headers["x-request-id"]) == (200, "head")

    async def test_the_problem_schema_documents_it(self, client: AsyncClient) -> None:
        document = (await client.get("/openapi.json")).json()
        problem = document["components"]["schemas"]["Problem"]
        assert problem["properties"]["request_id"]["anyOf"] == [
            {"type": "string"},
            {"type": "null"},
        ]


class TestRequestEvent:
    async def test_one_event_per_request_with_its_fields(
        self, client: AsyncClient, captured_log: CapturedLog
    ) -> None:
        response = await client.get("/v1/jurisdictions/HK?x=1", headers={"X-Request-ID": "ev-1"})
        assert response.status_code == 200
        [event] = captured_log.requests("ev-1")
        assert event["duration_ms"] > 0
        assert event["pid"] > 0
        del event["time"], event["duration_ms"], event["pid"], event["message"]
        assert event == {
            "level": "INFO",
            "logger": "juriscope.access",
            "event": "request",
            "request_id": "ev-1",
            "method": "GET",
            "route": "/v1/jurisdictions/{code}",
            "path": "/v1/jurisdictions/HK",
            "status": 200,
            "cache": None,
            "key_id": None,
            "client": "127.0.0.1",
        }

    async def test_every_line_of_a_request_has_its_id(
        self, client: AsyncClient, captured_log: CapturedLog
    ) -> None:
        response = await client.get("/v1/jurisdictions/XX", headers={"X-Request-ID": "lines"})
        assert response.status_code == 404
        during = [e for e in captured_log.events() if e["request_id"] == "lines"]
        assert len(during) >= 1
        assert all(e["request_id"] == "lines" for e in captured_log.events() if e.get("event"))

    async def test_an_unknown_path_is_one_unmatched_route(
        self, client: AsyncClient, captured_log: CapturedLog
    ) -> None:
        await client.get("/v1/nowhere/at/all", headers={"X-Request-ID": "lost"})
        [event] = captured_log.requests("lost")
        assert (event["route"], event["status"]) == ("unmatched", 404)

    async def test_a_500_has_its_traceback_in_the_same_event(
        self, app: FastAPI, client: AsyncClient, captured_log: CapturedLog
    ) -> None:
        async def boom() -> None:
            raise RuntimeError("boom internals")

        app.add_api_route("/boom", boom)
        response = await client.get("/boom", headers={"X-Request-ID": "it-broke"})
        assert response.status_code == 500
        assert response.headers["x-request-id"] == "it-broke"
        assert response.json()["request_id"] == "it-broke"
        assert "boom internals" not in response.text
        [event] = captured_log.requests("it-broke")
        assert (event["level"], event["status"], event["route"]) == ("ERROR", 500, "/boom")
        assert "Traceback" in event["exc_info"]
        assert "RuntimeError: boom internals" in event["exc_info"]
        # One traceback, in that event: nothing else logged it again.
        assert captured_log.text.count("Traceback") == 1

    async def test_a_key_is_never_logged_only_its_id(
        self, client: AsyncClient, session: AsyncSession, captured_log: CapturedLog
    ) -> None:
        key = await create_api_key(session, "write")
        read = await client.get(
            "/v1/jurisdictions/HK", headers={**bearer(key), "X-Request-ID": "r"}
        )
        write = await client.put(
            "/v1/jurisdictions/ZZ",
            json={"name": "Zedland", "kind": "country", "region": "europe"},
            headers={**bearer(key), "X-Request-ID": "w"},
        )
        wrong = await client.get(
            "/v1/jurisdictions/HK", headers={**bearer(key.key + "x"), "X-Request-ID": "bad"}
        )
        assert (read.status_code, wrong.status_code) == (200, 401)
        assert write.status_code == 201, write.text
        assert captured_log.requests("r")[0]["key_id"] == key.id
        assert captured_log.requests("w")[0]["key_id"] == key.id
        assert captured_log.requests("bad")[0]["key_id"] is None
        secret = key.key.split("_", 2)[2]
        assert secret not in captured_log.text
        assert "Bearer" not in captured_log.text
