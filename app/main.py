"""The application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from app import api_index, health
from app.changes.router import router as changes_router
from app.compare.router import router as compare_router
from app.core.config import Settings, get_settings
from app.core.db import Database
from app.core.error_handlers import install_error_handlers
from app.coverage.router import router as coverage_router
from app.events.router import router as events_router
from app.explorer import router as explorer
from app.exports.router import router as exports_router
from app.features.router import router as features_router
from app.http.auth import READ_ACCESS
from app.http.cache import ResponseCacheMiddleware
from app.http.compression import GZipMiddleware, HeadMiddleware
from app.http.conditional import ConditionalGetMiddleware
from app.http.csv_paths import CsvPathMiddleware
from app.http.data_version import DataVersionWatcher
from app.http.dependencies import no_nul_in_query
from app.http.docs import install_docs
from app.http.openapi import build_openapi
from app.http.protection import (
    BodyLimitMiddleware,
    EncodedSlashMiddleware,
    RateLimiter,
    RateLimitMiddleware,
    SecurityHeadersMiddleware,
)
from app.http.strict_json import StrictJSONMiddleware
from app.imports.router import router as imports_router
from app.indices.router import router as indices_router
from app.jurisdictions.router import router as jurisdictions_router
from app.keys.router import router as keys_router
from app.metrics.router import router as metrics_router
from app.observability import metrics as observed_metrics
from app.observability.requests import observe
from app.observability.tracing import setup_tracing, trace_engines
from app.scenarios.router import router as scenarios_router
from app.sources.router import router as sources_router

# In this order: the OpenAPI document lists the paths in the order of their first route.
ROUTERS = (
    jurisdictions_router,
    features_router,
    metrics_router,
    sources_router,
    events_router,
    changes_router,
    compare_router,
    coverage_router,
    indices_router,
    scenarios_router,
    exports_router,
    imports_router,
    keys_router,
)

DESCRIPTION = """
Compare jurisdictions for virtual-asset business: who regulates what, under which law
since when, what it costs, how open the market is, and what the numbers say. Every value
carries its sources, its validity dates, the day it was last checked against them
(`checked_on`) and a confidence grade (`verified`, `reported`, `estimated`, `disputed`, or
`unverified`: shown, never scored). A figure known only as a bound says so (`bound`).

Errors are RFC 9457 `application/problem+json`. Lists are paginated with opaque cursors
(`next_cursor`, always present, null on the last page). Lists also come as CSV at the same
path with `.csv` appended. Scores, normalised values and contributions are rounded to 6
decimal places.

**[The explorer](/)** is a reference frontend built only on this public API: rankings with
re-weighting, the comparison matrix, profiles and what-if scenarios in the browser.
"""


TAGS = [
    {"name": "discovery", "description": "Where to start: what the API offers."},
    {
        "name": "jurisdictions",
        "description": "Profiles, their features over time, metrics and timeline.",
    },
    {"name": "features", "description": "The regulatory taxonomy and values across jurisdictions."},
    {"name": "metrics", "description": "Market metrics as time series (panel data)."},
    {"name": "sources", "description": "Where every value comes from."},
    {"name": "events", "description": "The regulatory timeline."},
    {"name": "compare", "description": "Jurisdictions side by side."},
    {"name": "coverage", "description": "What the data knows, before you compare."},
    {"name": "indices", "description": "Composite indices and re-weightable rankings."},
    {
        "name": "scenarios",
        "description": "What-if evaluation, and saved scenarios re-evaluated on current data.",
    },
    {"name": "changes", "description": "The change feed: every write, in order."},
    {"name": "export", "description": "The whole dataset in one download."},
    {"name": "imports", "description": "Bulk, all-or-nothing dataset imports (admin)."},
    {"name": "keys", "description": "API keys (admin)."},
    {"name": "health", "description": "Liveness and readiness probes."},
]


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the app. Without `database`, it connects to `settings.database_url` on startup."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        if database is None:
            if not settings.database_url:
                raise RuntimeError(
                    "DATABASE_URL is not set; start the API with `juriscope serve`, which "
                    "starts the embedded PostgreSQL when no DATABASE_URL is given."
                )
            app.state.db = Database.connect(
                settings, settings.database_url, settings.database_read_url
            )
            trace_engines(app, app.state.db.engine, app.state.db.read_engine)
        observed_metrics.forget_dead_workers()
        if settings.response_cache_entries > 0 and settings.public_read:
            watcher.start(app.state.db.engine)
        try:
            yield
        finally:
            await watcher.close()
            if owned:
                await app.state.db.dispose()
            observed_metrics.leave()

    app = FastAPI(
        title="Juriscope",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        separate_input_output_schemas=False,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(no_nul_in_query)],
    )
    app.state.settings = settings
    # The data version pushed to this worker, and the rate budgets, which the response
    # cache's hits share with the layers they skip.
    watcher = DataVersionWatcher(connect_timeout_s=settings.connect_timeout_s)
    limiter = RateLimiter(settings)
    app.state.data_version = watcher
    if database is not None:
        app.state.db = database
        if settings.response_cache_entries > 0:
            watcher.attach(database.engine)
    install_error_handlers(app)
    # Added first = innermost. On the way in: CORS, response cache (a hit answers here),
    # `.csv` paths, encoded-slash refusal, HEAD as GET, security headers, rate limit, body
    # limit, strict JSON, gzip, conditional GET; the ETag is computed on the uncompressed
    # body (gzip's tag derives from it).
    app.add_middleware(
        ConditionalGetMiddleware, max_age=settings.cache_max_age, public=settings.public_read
    )
    # Level 5: most of level 9's ratio on JSON at a fraction of its CPU.
    app.add_middleware(GZipMiddleware, minimum_size=1000, level=5)
    app.add_middleware(StrictJSONMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        import_bytes=settings.max_import_bytes,
    )
    app.add_middleware(RateLimitMiddleware, limiter=limiter)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(HeadMiddleware)
    app.add_middleware(EncodedSlashMiddleware)
    app.add_middleware(CsvPathMiddleware)
    app.add_middleware(
        ResponseCacheMiddleware,
        entries=settings.response_cache_entries,
        max_bytes=settings.response_cache_bytes,
        watcher=watcher,
        limiter=limiter,
        cors=bool(settings.cors_origins),
        observed=settings.instrumentation,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match"],
            expose_headers=[
                "ETag",
                "Link",
                "Location",
                "Retry-After",
                "RateLimit",
                "RateLimit-Policy",
                "X-Request-ID",
            ],
        )
    if setup_tracing(app, settings) and database is not None:
        trace_engines(app, database.engine, database.read_engine)
    # Outside everything, Starlette's ServerErrorMiddleware (and the tracing) included:
    # request ids, metrics and the access log see every response, a 500 too.
    if settings.instrumentation:
        build_stack = app.build_middleware_stack
        app.build_middleware_stack = lambda: observe(  # type: ignore[method-assign]
            build_stack(), templates=lambda: app.openapi()["paths"]
        )
    # The reads are the operations that take the read-access dependency (the scenario
    # evaluation, a POST, too).
    read_operations = {
        route.operation_id
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.operation_id and READ_ACCESS in route.dependencies
    }
    app.openapi = lambda: build_openapi(  # type: ignore[method-assign]
        app, description=DESCRIPTION, tags=TAGS, read_operations=read_operations
    )
    install_docs(app)
    app.include_router(health.router)
    app.include_router(explorer.router)
    app.mount(explorer.ASSETS_PATH, explorer.assets, name="explorer")
    app.include_router(observed_metrics.router)
    app.include_router(api_index.router)
    for router in ROUTERS:
        app.include_router(router)
    return app
