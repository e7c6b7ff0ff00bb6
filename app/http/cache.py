"""A response cache for public reads, keyed by the data version (an ASGI middleware).

Every write appends a change record, and a trigger bumps the one-row `data_version` in commit
order and sends the new version to every worker (app/data_version.py). An entry is the answer
to one request (path, query, Accept, caller's audience) at one version on one (UTC) day, since
answers with a default `as_of` move with the date: never stale, across workers and replicas.

It sits near the outside of the stack, so that a hit is a short path: a dictionary lookup,
the rate limit, and the stored bytes. Each entry holds its body once per encoding, identity
and gzip (compressed once, when the entry is made), each with its own strong ETag (the gzip
tag is the identity tag with `-gzip`, app/compression.py), and the headers the inner layers
gave it (security headers, Cache-Control, Vary, Link); a hit answers If-None-Match with 304
and HEAD with the headers alone. On a miss the request runs through the whole stack, told
(by the scope) to leave the body uncompressed and not to answer 304, and the answer is kept
and then served from the entry like a hit.

What a caller may see shapes the key: a presented API key is authenticated (once, then from
the watcher's cache of valid keys, emptied by every key change; an unknown or revoked key is
never served from the cache: the app answers 401), and admin callers, who see more (API-key
changes in the feed), have entries of their own. Bodies are kept per process, least recently
used first out, bounded in bytes. Only public reads are cached: nothing is cached when reads
need a key, nor /v1/keys. When the watcher is not listening (starting, or the database went
away), the version is read from the database on every request, as a fallback.
"""

import asyncio
from collections import OrderedDict
from contextlib import suppress

from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.periods import today
from app.http.cache_entries import CachedRequest, Entry, make_entry, read_headers, wants_gzip
from app.http.compression import FILL
from app.http.conditional import matches_if_none_match
from app.http.data_version import DataVersionWatcher
from app.http.etags import is_api_path
from app.http.protection import WRITE_METHODS, RateLimiter
from app.keys.service import parse_key
from app.observability import metrics
from app.observability.context import current_request, note_key

_VERSION = text("SELECT version FROM data_version WHERE id = 1")
_KEY = text(
    "SELECT scopes FROM api_key WHERE public_id = :public_id AND hash = :hash "
    "AND revoked_at IS NULL"
)
_PASS = object()


class ResponseCacheMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        entries: int,
        watcher: DataVersionWatcher,
        limiter: RateLimiter,
        max_bytes: int = 67_108_864,
        max_body_bytes: int = 4_194_304,
        cors: bool = False,
        observed: bool = True,
        minimum_gzip: int = 1000,
        gzip_level: int = 5,
    ) -> None:
        self.app = app
        self.entries = entries
        self.watcher = watcher
        self.limiter = limiter
        self.max_bytes = max_bytes
        self.max_body_bytes = min(max_body_bytes, max_bytes)
        self.cors = cors
        self.observed = observed
        self.minimum_gzip = minimum_gzip
        self.gzip_level = gzip_level
        self.store: OrderedDict[tuple[object, ...], Entry] = OrderedDict()
        # Answers being made now, which requests for the same key wait for.
        self.filling: dict[tuple[object, ...], asyncio.Future[Entry | None]] = {}
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        # What this cache has added to the process-wide gauges (several apps may share them).
        self.counted_bytes = 0
        self.counted_entries = 0
        watcher.on_change.append(self.clear)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.entries <= 0:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if not is_api_path(path) or not scope["app"].state.settings.public_read:
            await self.app(scope, receive, send)
            return
        if method in WRITE_METHODS:
            await self._write(scope, receive, send)
            return
        if method not in ("GET", "HEAD") or path.startswith("/v1/keys"):
            await self.app(scope, receive, send)
            return
        db = scope["app"].state.db
        self.watcher.start(db.engine)
        request = read_headers(scope)
        if request.has_body or (request.origin and self.cors):
            # A body to refuse, or CORS headers to add: the whole stack answers.
            await self.app(scope, receive, send)
            return
        audience = await self._audience(scope, request)
        if audience is _PASS:
            await self.app(scope, receive, send)  # the app says 401, or 503
            return
        version = self.watcher.current()
        if version is None:
            commits = self.watcher.commits
            version = await self._read_version(db.engine)
            if version is None:
                await self.app(scope, receive, send)  # the database is down: the app says 503
                return
            self.watcher.confirm(version, commits)
        key = (
            version,
            today(),
            audience,
            scope.get("raw_path") or path.encode(),
            scope["query_string"],
            request.accept,
        )
        info = current_request()
        entry = self.store.get(key)
        if entry is None and method == "GET" and key in self.filling:
            # The same answer is being made for another request: wait for it rather than
            # make it again (a cold key under load is made once, not once per connection).
            entry = await asyncio.shield(self.filling[key])
        if entry is not None:
            extra = await self.limiter.admit(scope, send)
            if extra is None:
                return  # over the rate limit: the 429 went out
            self.hits += 1
            if self.observed:
                metrics.CACHE_HITS.inc()
            if info is not None:
                info.cache, info.route = "hit", entry.route
            if key in self.store:
                self.store.move_to_end(key)
            await self._answer(entry, request, method == "HEAD", extra, b"hit", send)
            return
        if method == "HEAD":
            await self.app(scope, receive, send)
            return
        self.misses += 1
        if self.observed:
            metrics.CACHE_MISSES.inc()
        if info is not None:
            info.cache = "miss"
        filled: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
        self.filling[key] = filled
        try:
            filled.set_result(await self._fill(scope, receive, send, key, request, db))
        finally:
            if not filled.done():
                filled.set_result(None)
            self.filling.pop(key, None)

    async def _audience(self, scope: Scope, request: CachedRequest) -> object:
        """ "public", "admin" (an admin key's callers see more), or _PASS when the presented
        credentials are not a valid key of ours (or cannot be checked now)."""
        if request.authorization is None:
            return "public"
        scheme, _, token = request.authorization.partition(" ")
        parsed = parse_key(token.strip()) if scheme.lower() == "bearer" else None
        if parsed is None:
            return _PASS
        public_id, digest = parsed
        known = self.watcher.keys.get(digest)
        if known is None:
            generation = self.watcher.key_generation
            try:
                async with scope["app"].state.db.engine.connect() as connection:
                    scopes = await connection.scalar(_KEY, {"public_id": public_id, "hash": digest})
            except Exception:
                return _PASS
            if scopes is None:
                return _PASS
            self.watcher.remember_key(digest, public_id, scopes, generation)
            known = (public_id, tuple(scopes))
        note_key(public_id)
        return "admin" if "admin" in known[1] else "public"

    async def _read_version(self, engine: object) -> int | None:
        try:
            async with engine.connect() as connection:  # type: ignore[attr-defined]
                return int((await connection.execute(_VERSION)).scalar_one())
        except Exception:
            return None

    async def _answer(
        self,
        entry: Entry,
        request: CachedRequest,
        head: bool,
        extra: list[tuple[bytes, bytes]],
        outcome: bytes,
        send: Send,
    ) -> None:
        representation = (
            entry.gzip
            if entry.gzip is not None and wants_gzip(request.accept_encoding)
            else entry.identity
        )
        if request.if_none_match is not None and matches_if_none_match(
            request.if_none_match, representation.etag
        ):
            headers = [*representation.not_modified, *extra, (b"x-cache", outcome)]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [*representation.headers, *extra, (b"x-cache", outcome)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else representation.body})

    async def _fill(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: tuple[object, ...],
        request: CachedRequest,
        db: object,
    ) -> Entry | None:
        """Run the request through the stack, keep its answer, and send it; the entry made
        (kept or not), or None when the answer cannot be one (not a 200)."""
        storable = True
        read_engine = db.read_engine  # type: ignore[attr-defined]
        if read_engine is not db.engine:  # type: ignore[attr-defined]
            # A replica may lag the version the primary announced: keep nothing it answers
            # until it has replayed that version.
            replayed = await self._read_version(read_engine)
            storable = replayed is not None and replayed >= key[0]  # type: ignore[operator]
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            else:
                await send(message)

        scope[FILL] = True
        await self.app(scope, receive, capture)
        if start is None:
            return None
        body = b"".join(chunks)
        identity = not any(name.lower() == b"content-encoding" for name, _ in start["headers"])
        if start["status"] != 200 or not identity:
            await send({**start, "headers": [*start["headers"], (b"x-cache", b"miss")]})
            await send({"type": "http.response.body", "body": body})
            return None
        route = getattr(scope.get("route"), "path_format", None)
        entry = make_entry(
            start, body, route=route, minimum_gzip=self.minimum_gzip, level=self.gzip_level
        )
        if (
            storable
            and entry.size <= self.max_body_bytes
            and (not self.watcher.live or key[0] == self.watcher.version)
        ):
            self._keep(key, entry)
        extra = [
            (name, value)
            for name, value in start["headers"]
            if name.lower() in (b"ratelimit", b"ratelimit-policy")
        ]
        await self._answer(entry, request, False, extra, b"miss", send)
        return entry if storable else None

    async def _write(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A write: before its success goes out, every listening worker has seen it."""
        engine = scope["app"].state.db.engine
        self.watcher.start(engine)
        commits = self.watcher.commits

        async def settled(message: Message) -> None:
            # Only when something was committed meanwhile (a POST that only reads, such as
            # /v1/scenarios/evaluate, has nothing to wait for).
            if (
                message["type"] == "http.response.start"
                and 200 <= message["status"] < 300
                and self.watcher.commits != commits
            ):
                # The write is committed either way; should this fail, the other workers'
                # notification (or their poll) still comes.
                with suppress(Exception):
                    await self.watcher.settle(engine)
            await send(message)

        await self.app(scope, receive, settled)

    def _keep(self, key: tuple[object, ...], entry: Entry) -> None:
        previous = self.store.pop(key, None)
        if previous is not None:
            self.bytes -= previous.size
        self.store[key] = entry
        self.bytes += entry.size
        while self.store and (len(self.store) > self.entries or self.bytes > self.max_bytes):
            _, evicted = self.store.popitem(last=False)
            self.bytes -= evicted.size
        self._count()

    def clear(self) -> None:
        """Forget every entry (a new data version, or the watcher's reset)."""
        if self.store:
            self.store.clear()
            self.bytes = 0
            self._count()

    def _count(self) -> None:
        metrics.CACHE_BYTES.inc(self.bytes - self.counted_bytes)
        metrics.CACHE_ENTRIES.inc(len(self.store) - self.counted_entries)
        self.counted_bytes, self.counted_entries = self.bytes, len(self.store)
