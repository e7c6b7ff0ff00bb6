"""OpenTelemetry traces: the optional extra `juriscope[otel]`.

Off unless JURISCOPE_TRACES=true or an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT) is set,
and never with OTEL_SDK_DISABLED=true. The exporter reads the standard OTEL_* variables
(endpoint, headers, OTEL_SERVICE_NAME, ...). Without the extra installed, the app runs
untraced and says so once.
"""

import logging
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings

log = logging.getLogger("juriscope.tracing")
NOT_TRACED = "/healthz,/readyz,/metrics"


def span_processor() -> Any:
    """Spans go out in batches to the OTLP endpoint of the OTEL_* variables."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    return BatchSpanProcessor(OTLPSpanExporter())


def setup_tracing(app: FastAPI, settings: Settings) -> bool:
    """Trace `app`'s requests and outgoing httpx calls; True when tracing is on. Call it
    before anything else wraps the app's middleware stack (the instrumentation expects
    Starlette's own)."""
    if not settings.tracing:
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        log.warning(
            "tracing is configured but OpenTelemetry is not installed "
            "(pip install 'juriscope[otel]'); serving without traces"
        )
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": "juriscope"}))
    provider.add_span_processor(span_processor())
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)  # once per process; later apps pass theirs
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=NOT_TRACED)
    httpx_instrumentor = HTTPXClientInstrumentor()
    if not httpx_instrumentor.is_instrumented_by_opentelemetry:
        httpx_instrumentor.instrument(tracer_provider=provider)
    app.state.tracer_provider = provider
    return True


def trace_engines(app: FastAPI, *engines: AsyncEngine) -> None:
    """Spans for the SQL statements of `engines`, when `app` is traced."""
    provider = getattr(app.state, "tracer_provider", None)
    if provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    instrumentor = SQLAlchemyInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()  # one app per process in production; tests build many
    unique = list({id(engine): engine.sync_engine for engine in engines}.values())
    # The instrumentation declares SQLAlchemy < 2.1; it works on 2.1's unchanged event API.
    instrumentor.instrument(engines=unique, tracer_provider=provider, skip_dep_check=True)
