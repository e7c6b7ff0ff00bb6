"""The outermost layer: a request id for every request, its metrics, and its one log event.

It wraps the whole app, Starlette's ServerErrorMiddleware included, so it sees every
response: the ones middleware refuses (413, 429), cache hits, 304s and the 500s of
unexpected errors, whose traceback goes into the same event as the request.
"""

import logging
import time
from collections.abc import Callable

from asgi_correlation_id import CorrelationIdMiddleware
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability import metrics
from app.observability.context import (
    REQUEST_ID_HEADER,
    is_well_formed,
    new_request_id,
    start_request,
)

access_log = logging.getLogger("juriscope.access")
UNMATCHED = "unmatched"


def _route_of(scope: Scope, routes: Callable[[], list[BaseRoute]]) -> str:
    """The route template (`/v1/jurisdictions/{code}`), never the raw path: a bounded set of
    label values. Found in the scope when the router ran; matched here when a middleware
    answered first (a HEAD, a 429)."""
    route = scope.get("route")
    if route is None:
        for candidate in routes():
            match, _ = candidate.matches({**scope, "method": "GET"})
            if match is not Match.NONE:
                route = candidate
                break
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class RequestObserver:
    def __init__(self, app: ASGIApp, *, routes: Callable[[], list[BaseRoute]]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = start_request()
        started = time.perf_counter()
        status = 500
        responded = False

        async def observed(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                responded = True
            await send(message)

        metrics.IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, observed)
        except Exception as error:
            info.error = error
            if not responded:
                raise  # nothing was sent: the server answers and logs it
            # Answered (ServerErrorMiddleware sent the 500 problem, then re-raised): the
            # event below carries the traceback, so the server need not log it again.
        finally:
            metrics.IN_PROGRESS.dec()
            seconds = time.perf_counter() - started
            route = info.route or _route_of(scope, self.routes)
            method = scope["method"]
            metrics.record_request(method, route, status, seconds)
            if access_log.isEnabledFor(logging.INFO) or status >= 500:
                _log(scope, info.cache, info.key_id, info.error, route, status, seconds)


def _log(
    scope: Scope,
    cache: str | None,
    key_id: str | None,
    error: BaseException | None,
    route: str,
    status: int,
    seconds: float,
) -> None:
    client = scope.get("client")
    duration_ms = round(seconds * 1000, 2)
    level = logging.ERROR if error else logging.WARNING if status >= 500 else logging.INFO
    message = f"{scope['method']} {scope['path']} {status} {duration_ms}ms"
    if cache:
        message += f" cache={cache}"
    if key_id:
        message += f" key={key_id}"
    access_log.log(
        level,
        message,
        exc_info=(type(error), error, error.__traceback__) if error else None,
        extra={
            "event": "request",
            "method": scope["method"],
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": duration_ms,
            "cache": cache,
            "key_id": key_id,
            "client": client[0] if client else None,
        },
    )


def observe(app: ASGIApp, *, routes: Callable[[], list[BaseRoute]]) -> ASGIApp:
    """`app` inside the request-id and observer layers."""
    return CorrelationIdMiddleware(
        RequestObserver(app, routes=routes),
        header_name=REQUEST_ID_HEADER,
        generator=new_request_id,
        validator=is_well_formed,
    )
