"""ETag, If-None-Match -> 304, and Cache-Control on every GET (an ASGI middleware).

The ETag is a hash of the body bytes before compression, so it is stable across workers and
changes exactly when the representation does. Responses under /v1 are cacheable for the
configured max-age (`private` when reads need a key); probes and errors are `no-store`.
"""

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.compression import FILL, gzip_applies, identity_etag, representation_etag
from app.http.etags import body_etag, is_api_path


def matches_if_none_match(if_none_match: str, etag: str) -> bool:
    """If-None-Match uses weak comparison (RFC 9110 13.1.2): W/ is ignored, and the gzip
    and identity tags of one body are one representation's."""
    if if_none_match.strip() == "*":
        return True
    bare = identity_etag(etag.removeprefix("W/"))
    return any(
        identity_etag(tag.strip().removeprefix("W/")) == bare for tag in if_none_match.split(",")
    )


class ConditionalGetMiddleware:
    def __init__(self, app: ASGIApp, *, max_age: int, public: bool) -> None:
        self.app = app
        self.cache_control = f"{'public' if public else 'private'}, max-age={max_age}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            await self._finish(scope, request_headers, start, b"".join(chunks), send)

        await self.app(scope, receive, capture)

    async def _finish(
        self,
        scope: Scope,
        request_headers: Headers,
        start: Message,
        body: bytes,
        send: Send,
    ) -> None:
        headers = MutableHeaders(scope=start)
        cacheable = start["status"] == 200 and is_api_path(scope["path"])
        if not cacheable:
            headers.setdefault("Cache-Control", "no-store")
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        etag = headers.get("etag") or body_etag(body)
        # The tag of the representation this client gets (gzip or identity), also on a 304.
        # Filling the response cache, the body stays identity and no 304 is made: the cache
        # makes both representations and answers the condition itself.
        fill = scope.get(FILL, False)
        gzipped = not fill and gzip_applies(
            request_headers.get("accept-encoding", ""), headers.get("content-type", ""), len(body)
        )
        headers["ETag"] = representation_etag(etag, gzipped)
        headers["Cache-Control"] = self.cache_control
        # GZipMiddleware adds Accept-Encoding to Vary on the responses it compresses.
        headers["Vary"] = "Accept, Authorization"
        if not fill and matches_if_none_match(request_headers.get("if-none-match", ""), etag):
            not_modified = MutableHeaders()
            for name in ("etag", "cache-control", "vary", "link"):
                if name in headers:
                    not_modified[name] = headers[name]
            await send({"type": "http.response.start", "status": 304, "headers": not_modified.raw})
            await send({"type": "http.response.body", "body": b""})
            return
        await send(start)
        await send({"type": "http.response.body", "body": body})
