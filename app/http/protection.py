"""Request limits as ASGI middleware: body size (413), rate limits (429), security headers.

Rate limits use the `limits` library: in memory per process by default, or in Redis when
REDIS_URL is set, so that every worker and replica shares one budget per caller. A caller is
its API key when it presents a valid one, else its address.
"""

import json
import logging
import math
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy import text
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.keys.service import parse_key
from app.observability import metrics
from app.observability.context import note_key, request_id

log = logging.getLogger("juriscope.protection")

UNLIMITED_PATHS = ("/healthz", "/readyz", "/metrics")
_KEY_IS_VALID = text("SELECT true FROM api_key WHERE hash = :hash AND revoked_at IS NULL")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"cross-origin"),
]


async def send_problem(
    send: Send,
    scope: Scope,
    status: int,
    title: str,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    type_: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> None:
    """A problem+json response sent from ASGI middleware (below FastAPI's handlers)."""
    problem: dict[str, Any] = {
        "type": type_ or f"/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": scope.get("path"),
    }
    if errors is not None:
        problem["errors"] = errors
    problem["request_id"] = request_id()
    body = json.dumps(problem).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """413 for request bodies over the limit (a larger one for imports): by Content-Length,
    or, for a streamed body, by reading it (bounded) before the app does, then replaying it."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, import_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.import_bytes = import_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.import_bytes if scope["path"] == "/v1/imports" else self.max_bytes
        detail = f"The request body is over the limit of {limit} bytes."
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > limit:
                await send_problem(send, scope, 413, "Content Too Large", detail)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await send_problem(send, scope, 413, "Content Too Large", detail)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _storage(settings: Settings) -> Storage:
    if settings.redis_url:
        uri = settings.redis_url.replace("redis://", "async+redis://", 1).replace(
            "rediss://", "async+rediss://", 1
        )
        return RedisStorage(uri, implementation="redispy", wrap_exceptions=True)
    return MemoryStorage()


class _Windows:
    """The `limits` library's sliding window counter (`SlidingWindowCounterRateLimiter` on
    its memory storage), in this process's memory without the storage's async layers: a
    cache hit is a few microseconds, and the limit's cost was most of it. Per caller: the
    count of the current fixed window and of the one before, the latter weighted by how much
    of it the sliding window still covers."""

    PRUNE_AT = 10_000

    def __init__(self) -> None:
        self.counts: dict[str, tuple[int, int, int]] = {}

    def hit(self, key: str, limit: int, expiry: int) -> tuple[bool, int, float]:
        """(allowed, remaining, reset time) after one hit, as `hit` then
        `get_window_stats` would say."""
        now = time.time()
        index = int(now / expiry)
        window, before, current = self.counts.get(key, (index, 0, 0))
        if window != index:
            before, current = (current, 0) if window == index - 1 else (0, 0)
        before_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if before else 0.0
        weighted = before * before_ttl / expiry + current
        allowed = math.floor(weighted) + 1 <= limit
        if allowed:
            current += 1
            weighted += 1
        if len(self.counts) >= self.PRUNE_AT:
            self.counts = {k: v for k, v in self.counts.items() if v[0] >= index - 1}
        self.counts[key] = (index, before, current)
        remaining = max(0, limit - math.floor(weighted))
        if not (before or current):
            return allowed, remaining, now
        before_reset = before_ttl % (expiry / before) if before else math.inf
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        current_reset = current_ttl % expiry if current else math.inf
        return allowed, remaining, now + min(before_reset, current_reset)


class RateLimiter:
    """The read and write budgets, shared by RateLimitMiddleware and the response cache's
    hits (which answer before the middleware would run)."""

    def __init__(self, settings: Settings) -> None:
        self.limiter = SlidingWindowCounterRateLimiter(_storage(settings))
        # Without Redis the budgets are this process's: counted here, directly.
        self.windows = None if settings.redis_url else _Windows()
        self.reads: RateLimitItem = parse(settings.rate_limit)
        self.writes: RateLimitItem = parse(settings.write_rate_limit)
        self.known_keys: dict[str, float] = {}

    async def _caller(self, scope: Scope) -> str:
        """The budget a request draws on: its API key's when it presents a valid one, else its
        address's (a made-up key cannot buy a fresh budget). Valid keys are remembered for a
        minute, so this costs a database lookup only once per key and minute."""
        client = scope.get("client")
        address = f"ip:{client[0] if client else 'unknown'}"
        token = Headers(scope=scope).get("authorization", "").removeprefix("Bearer ").strip()
        parsed = parse_key(token)
        if parsed is None:
            return address
        public_id, digest = parsed
        budget = "key:" + public_id.removeprefix("key_")
        now = time.monotonic()
        if self.known_keys.get(digest, 0.0) > now:
            note_key(public_id)
            return budget
        try:
            async with scope["app"].state.db.engine.connect() as connection:
                valid = await connection.scalar(_KEY_IS_VALID, {"hash": digest})
        except Exception:
            return address
        if not valid:
            return address
        self.known_keys[digest] = now + 60
        note_key(public_id)
        return budget

    async def admit(self, scope: Scope, send: Send) -> list[tuple[bytes, bytes]] | None:
        """The rate-limit headers of a request within its budget; None when it is over (the
        429 is sent). A rate-limit store outage admits the request, without headers."""
        write = scope["method"] in WRITE_METHODS
        item = self.writes if write else self.reads
        caller = await self._caller(scope)
        if self.windows is not None:
            allowed, remaining, reset_time = self.windows.hit(
                f"{item.namespace}/{caller}/{item.amount}/{item.multiples}/{item.GRANULARITY.name}",
                item.amount,
                item.get_expiry(),
            )
        else:
            try:
                allowed = await self.limiter.hit(item, item.namespace, caller)
                stats = await self.limiter.get_window_stats(item, item.namespace, caller)
            except Exception as error:  # a rate-limit store outage must not take the API down
                log.warning("rate limiter unavailable, allowing: %s", error)
                return []
            remaining, reset_time = stats.remaining, stats.reset_time
        reset = max(1, math.ceil(reset_time - time.time()))
        headers = rate_limit_headers(
            "write" if write else "read", item, remaining=remaining, reset=reset
        )
        if not allowed:
            metrics.RATE_LIMITED.labels("write" if write else "read").inc()
            await send_problem(
                send,
                scope,
                429,
                "Too Many Requests",
                f"Rate limit of {item} exceeded for this caller; retry in {reset} s.",
                headers=[(b"retry-after", str(reset).encode()), *headers],
            )
            return None
        return headers


class RateLimitMiddleware:
    """429 with Retry-After when a caller goes over its read or write budget; `RateLimit` and
    `RateLimit-Policy` on every response it counts."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        headers = await self.limiter.admit(scope, send)
        if headers is None:
            return
        if not headers:
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, with_headers)


def rate_limit_headers(
    policy: str, item: RateLimitItem, *, remaining: int, reset: int
) -> list[tuple[bytes, bytes]]:
    """`RateLimit-Policy` and `RateLimit` as the IETF RateLimit header fields draft has them
    (structured fields): the policy's quota `q` per window `w` seconds, and what is left of
    it, `r`, until it resets in `t` seconds."""
    return [
        (b"ratelimit-policy", f'"{policy}";q={item.amount};w={item.get_expiry()}'.encode()),
        (b"ratelimit", f'"{policy}";r={max(0, remaining)};t={reset}'.encode()),
    ]


class SecurityHeadersMiddleware:
    """Security headers on every response; `no-store` on everything under /v1/keys (key
    listings and the one response that carries a new key's secret)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secret = scope["path"] == "/v1/keys" or scope["path"].startswith("/v1/keys/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name.decode(), value.decode())
                if secret:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


class EncodedSlashMiddleware:
    """404 for a path whose raw form holds `%2F`: an encoded slash is not a separator, and no
    identifier contains one, so such a path names nothing (it must not reach a route)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") or b""
        if scope["type"] == "http" and b"%2f" in raw.lower():
            await send_problem(
                send,
                scope,
                404,
                "Not Found",
                "No resource at this path: an encoded slash (%2F) is not part of any identifier.",
                headers=[(b"cache-control", b"no-store")],
            )
            return
        await self.app(scope, receive, send)
