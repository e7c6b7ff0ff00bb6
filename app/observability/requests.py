"""The outermost layer: a request id for every request, its metrics, and its one log event.

It wraps the whole app, Starlette's ServerErrorMiddleware included, so it sees every
response: the ones middleware refuses (413, 429), cache hits, 304s and the 500s of
unexpected errors, whose traceback goes into the same event as the request.
"""

import logging
import re
import time
from collections.abc import Callable, Iterable

from asgi_correlation_id import CorrelationIdMiddleware
from starlette.routing import compile_path
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


class RequestObserver:
    def __init__(self, app: ASGIApp, *, templates: Callable[[], Iterable[str]]) -> None:
        self.app = app
        self.templates = templates
        self.patterns: list[tuple[re.Pattern[str], str]] | None = None

    def _route_of(self, scope: Scope) -> str:
        """The route template (`/v1/jurisdictions/{code}`), never the raw path: a bounded
        set of label values. The router notes it in the scope; when a middleware answered
        first (a 429, a 413), the path is matched against the documented templates here."""
        template = getattr(scope.get("route"), "path_format", None)
        if isinstance(template, str):
            return template
        if self.patterns is None:
            self.patterns = [(compile_path(path)[0], path) for path in self.templates()]
        for pattern, path in self.patterns:
            if pattern.match(scope["path"]):
                return path
        return UNMATCHED

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
            route = info.route or self._route_of(scope)
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


def observe(app: ASGIApp, *, templates: Callable[[], Iterable[str]]) -> ASGIApp:
    """`app` inside the request-id and observer layers; `templates` gives the paths of the
    app's routes."""
    return CorrelationIdMiddleware(
        RequestObserver(app, templates=templates),
        header_name=REQUEST_ID_HEADER,
        generator=new_request_id,
        validator=is_well_formed,
    )
