"""Traces are optional: spans for requests and SQL with the extra, a working app without it."""

import sys
from collections.abc import Iterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.config import Settings
from app.core.db import Database
from app.main import create_app
from app.observability import tracing
from tests.keys.helpers import build_app
from tests.observability.conftest import CapturedLog


@pytest.fixture
def without_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Imports of opentelemetry fail, as when `juriscope[otel]` is not installed."""
    for name in list(sys.modules):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    yield


def test_off_by_default() -> None:
    settings = Settings(env="test", database_url="postgresql://u@h/d")
    assert settings.tracing is False
    assert Settings(env="test", database_url="postgresql://u@h/d", traces=True).tracing
    assert (
        Settings(env="test", otel_sdk_disabled=True, traces=True, database_url="x").tracing is False
    )


async def test_an_endpoint_without_the_extra_still_serves(
    settings: Settings,
    engine: AsyncEngine,
    session: AsyncSession,
    without_opentelemetry: None,
    captured_log: CapturedLog,
) -> None:
    traced = settings.model_copy(update={"otel_endpoint": "http://127.0.0.1:4318"})
    assert traced.tracing
    app = build_app(traced, engine, session)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/v1/jurisdictions/HK")
    assert response.status_code == 200
    assert "OpenTelemetry is not installed" in captured_log.text


async def test_spans_for_the_request_and_its_sql(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exported = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "span_processor", lambda: SimpleSpanProcessor(exported))
    settings = Settings(env="test", database_url=database_url, traces=True)
    database = Database.connect(settings, database_url)
    app = create_app(settings, database=database)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
            response = await client.get("/v1/jurisdictions/HK", headers={"X-Request-ID": "t1"})
        assert response.status_code == 200
        spans = exported.get_finished_spans()
        [server] = [s for s in spans if s.kind.name == "SERVER"]
        assert server.attributes is not None
        assert server.attributes["http.route"] == "/v1/jurisdictions/{code}"
        sql = [s for s in spans if s.kind.name == "CLIENT" and "SELECT" in s.name]
        assert sql, [s.name for s in spans]
        assert {s.context.trace_id for s in sql} == {server.context.trace_id}
    finally:
        await database.dispose()
        SQLAlchemyInstrumentor().uninstrument()
        HTTPXClientInstrumentor().uninstrument()
