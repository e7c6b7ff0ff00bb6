"""Prometheus metrics (prometheus_client) and the GET /metrics endpoint.

`juriscope serve` always runs prometheus_client's multiprocess mode: it points
PROMETHEUS_MULTIPROC_DIR at an emptied directory before any worker starts, each worker
writes its samples there, and whichever worker answers a scrape sums them all. Gauges that
describe live state (in-flight requests, cache size, pool) use `livesum`, so only running
workers count. Without that variable (tests, an app embedded elsewhere) metrics live in this
process's default registry.
"""

import glob
import hmac
import os
import re
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

from app.core.errors import Unauthorized

LABELS = ("method", "route", "status")

REQUESTS = Counter("juriscope_http_requests_total", "HTTP requests answered.", LABELS)
LATENCY = Histogram(
    "juriscope_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response.",
    LABELS,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IN_PROGRESS = Gauge(
    "juriscope_http_requests_in_progress",
    "Requests being served now.",
    multiprocess_mode="livesum",
)
CACHE_HITS = Counter("juriscope_response_cache_hits_total", "Reads answered from the cache.")
CACHE_MISSES = Counter(
    "juriscope_response_cache_misses_total", "Cacheable reads the cache could not answer."
)
CACHE_BYTES = Gauge(
    "juriscope_response_cache_bytes",
    "Bytes of response bodies held by the response caches.",
    multiprocess_mode="livesum",
)
CACHE_ENTRIES = Gauge(
    "juriscope_response_cache_entries",
    "Responses held by the response caches.",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "juriscope_db_pool_size",
    "Configured connections (without overflow) of the database pools.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_CHECKED_OUT = Gauge(
    "juriscope_db_pool_checked_out",
    "Database connections in use.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_WAITS = Counter(
    "juriscope_db_pool_waits_total",
    "Connection requests that found the pool exhausted and had to wait.",
    ["pool"],
)
RATE_LIMITED = Counter(
    "juriscope_rate_limit_rejections_total",
    "Requests refused with 429 by the rate limits.",
    ["kind"],
)

_VERSION = text("SELECT version FROM data_version WHERE id = 1")


# The children of each (method, route, status): `labels()` validates and locks on every
# call, which a hot read need not pay on each request. Routes are templates: a bounded set.
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    children = _CHILDREN.get((method, route, status))
    if children is None:
        labels = (method, route, str(status))
        children = _CHILDREN[(method, route, status)] = (
            REQUESTS.labels(*labels),
            LATENCY.labels(*labels),
        )
    children[0].inc()
    children[1].observe(seconds)


class _ObservedPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's async queue pool, counting the checkouts that have to wait."""

    pool_name = "primary"

    def _do_get(self) -> ConnectionPoolEntry:
        # The same test QueuePool._do_get makes before blocking on its queue.
        if self.checkedin() == 0 and -1 < self._max_overflow <= self._overflow:
            POOL_WAITS.labels(self.pool_name).inc()
        return super()._do_get()


_POOL_CLASSES: dict[str, type[_ObservedPool]] = {}


def pool_class(name: str) -> type[_ObservedPool]:
    """The pool class of an engine named `name` ("primary" or "read")."""
    if name not in _POOL_CLASSES:
        _POOL_CLASSES[name] = type(f"ObservedPool_{name}", (_ObservedPool,), {"pool_name": name})
    return _POOL_CLASSES[name]


def observe_pool(engine: AsyncEngine, name: str) -> None:
    """Keep the pool gauges of `engine` current as connections are checked out and in."""
    pool = engine.sync_engine.pool
    size = getattr(pool, "size", None)
    if not callable(size):
        return  # a NullPool (command-line work) has nothing to watch
    POOL_SIZE.labels(name).set(size())
    checked_out = POOL_CHECKED_OUT.labels(name)

    def update(*_: Any) -> None:
        checked_out.set(pool.checkedout())  # type: ignore[attr-defined]

    event.listen(engine.sync_engine, "checkout", update)
    event.listen(engine.sync_engine, "checkin", update)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


_LIVE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db$")


def forget_dead_workers() -> None:
    """Drop the live gauges of worker processes that are gone (a worker that crashed and was
    replaced never said goodbye), so in-flight and pool gauges count running workers only."""
    directory = multiprocess_dir()
    if directory is None:
        return
    pids = set()
    for path in glob.glob(os.path.join(directory, "gauge_live*.db")):
        match = _LIVE_FILE.search(path)
        if match:
            pids.add(int(match.group(1)))
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            # prometheus_client leaves its multiprocess helpers unannotated.
            multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
        except PermissionError:
            pass


def leave() -> None:
    """A worker that stops: its live gauges stop counting."""
    directory = multiprocess_dir()
    if directory is not None:
        # prometheus_client leaves its multiprocess helpers unannotated.
        multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]


def exposition(data_version: int | None) -> bytes:
    """Every worker's metrics (or this process's), and the data version read just now."""
    directory = multiprocess_dir()
    if directory is not None:
        registry = CollectorRegistry()
        # Unannotated in prometheus_client, like mark_process_dead.
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    if data_version is not None:
        version = CollectorRegistry()
        Gauge(
            "juriscope_data_version",
            "The data version: the id of the latest committed change.",
            registry=version,
        ).set(data_version)
        body += generate_latest(version)
    return body


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def get_metrics(request: Request) -> Response:
    settings = request.app.state.settings
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}"
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthorized(
                "GET /metrics needs the metrics token: `Authorization: Bearer <token>`.",
                headers={"WWW-Authenticate": "Bearer"},
            )
    try:
        async with request.app.state.db.read_engine.connect() as connection:
            data_version = (await connection.execute(_VERSION)).scalar_one_or_none()
    except Exception:
        data_version = None  # the database is down: the other metrics still say so
    return Response(
        exposition(data_version),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )
