"""A response cache for public reads, keyed by the data version (an ASGI middleware).

Every write appends a change record, and a trigger bumps the one-row `data_version` in commit
order. Each GET asks the database for the version (a primary-key lookup) and serves the
stored body when the same request was answered at the same version on the same (UTC) day,
since answers with a default `as_of` move with the date: never stale, across workers and
replicas, because the version lives in the database.

What a caller may see shapes the key: a presented API key is authenticated in the same round
trip as the version (an unknown or revoked key is never served from the cache: the app
answers 401), and admin callers, who see more (API-key changes in the feed), have entries of
their own. Bodies are kept per process, least recently used first out, bounded in bytes. Only
public reads are cached: nothing is cached when reads need a key, nor /v1/keys.
"""

from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import text
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.periods import today
from app.http.etags import is_api_path
from app.keys.service import parse_key
from app.observability import metrics
from app.observability.context import current_request, note_key

_VERSION = text("SELECT version FROM data_version WHERE id = 1")
_VERSION_AND_KEY = text(
    "SELECT version, (SELECT scopes FROM api_key WHERE public_id = :public_id "
    "AND hash = :hash AND revoked_at IS NULL) FROM data_version WHERE id = 1"
)
_KEPT_HEADERS = (b"content-type", b"link", b"etag")
_NOT_A_KEY = object()


@dataclass(frozen=True)
class _Entry:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    route: str | None


def _presented_key(scope: Scope) -> tuple[str, str] | None | object:
    """(public id, hash) of the bearer key presented, None when there is none, or _NOT_A_KEY
    when the Authorization header is there but cannot be a key of ours."""
    authorization = Headers(scope=scope).get("authorization")
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    parsed = parse_key(token.strip()) if scheme.lower() == "bearer" else None
    return _NOT_A_KEY if parsed is None else parsed


class ResponseCacheMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        entries: int,
        max_bytes: int = 67_108_864,
        max_body_bytes: int = 4_194_304,
    ) -> None:
        self.app = app
        self.entries = entries
        self.max_bytes = max_bytes
        self.max_body_bytes = min(max_body_bytes, max_bytes)
        self.store: OrderedDict[tuple[object, ...], _Entry] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        # What this cache has added to the process-wide gauges (several apps may share them).
        self.counted_bytes = 0
        self.counted_entries = 0

    def _cacheable(self, scope: Scope) -> bool:
        if scope["type"] != "http":
            return False
        path: str = scope["path"]
        return (
            self.entries > 0
            and scope["method"] == "GET"
            and is_api_path(path)
            and not path.startswith("/v1/keys")
            and scope["app"].state.settings.public_read
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._cacheable(scope):
            await self.app(scope, receive, send)
            return
        presented = _presented_key(scope)
        if presented is _NOT_A_KEY:
            await self.app(scope, receive, send)  # the app says 401
            return
        try:
            async with scope["app"].state.db.read_engine.connect() as connection:
                if presented is None:
                    version, scopes = (await connection.execute(_VERSION)).scalar_one(), None
                else:
                    assert isinstance(presented, tuple)
                    public_id, digest = presented
                    row = (
                        await connection.execute(
                            _VERSION_AND_KEY, {"public_id": public_id, "hash": digest}
                        )
                    ).one()
                    version, scopes = row[0], row[1]
        except Exception:
            # The database is unreachable: let the app answer (it will say 503).
            await self.app(scope, receive, send)
            return
        if presented is not None and scopes is None:
            await self.app(scope, receive, send)  # unknown or revoked: the app says 401
            return
        if isinstance(presented, tuple):
            note_key(presented[0])
        info = current_request()
        audience = "admin" if scopes and "admin" in scopes else "public"
        accept = Headers(scope=scope).get("accept", "")
        key = (version, today(), audience, scope["path"], scope["query_string"], accept)
        entry = self.store.get(key)
        if entry is not None:
            self.hits += 1
            metrics.CACHE_HITS.inc()
            if info is not None:
                info.cache, info.route = "hit", entry.route
            self.store.move_to_end(key)
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [*entry.headers, (b"x-cache", b"hit")],
                }
            )
            await send({"type": "http.response.body", "body": entry.body})
            return
        self.misses += 1
        metrics.CACHE_MISSES.inc()
        if info is not None:
            info.cache = "miss"
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    assert start is not None
                    body = b"".join(chunks)
                    if start["status"] == 200 and len(body) <= self.max_body_bytes:
                        self._keep(key, start, body, _route_template(scope))
                    await send({**start, "headers": [*start["headers"], (b"x-cache", b"miss")]})
                    await send({"type": "http.response.body", "body": body})
                    return
            else:
                await send(message)

        await self.app(scope, receive, capture)

    def _keep(
        self, key: tuple[object, ...], start: Message, body: bytes, route: str | None
    ) -> None:
        headers = [(k, v) for k, v in start["headers"] if k.lower() in _KEPT_HEADERS]
        headers.append((b"content-length", str(len(body)).encode()))
        previous = self.store.pop(key, None)
        if previous is not None:
            self.bytes -= len(previous.body)
        self.store[key] = _Entry(headers=headers, body=body, route=route)
        self.bytes += len(body)
        while self.store and (len(self.store) > self.entries or self.bytes > self.max_bytes):
            _, evicted = self.store.popitem(last=False)
            self.bytes -= len(evicted.body)
        metrics.CACHE_BYTES.inc(self.bytes - self.counted_bytes)
        metrics.CACHE_ENTRIES.inc(len(self.store) - self.counted_entries)
        self.counted_bytes, self.counted_entries = self.bytes, len(self.store)


def _route_template(scope: Scope) -> str | None:
    """The template of the route that answered (the router notes it in the scope), which a
    hit reports in place of the router that it skips."""
    return getattr(scope.get("route"), "path_format", None)
