"""Content coding and HEAD, per RFC 9110 (ASGI middlewares).

- gzip is chosen by the client's `Accept-Encoding` with its q-values: `gzip;q=0` (or `*;q=0`
  without a gzip entry) refuses it, and then the body goes out as identity.
- Every GET/HEAD answer says `Vary: Accept-Encoding`, whether or not it was compressed.
- A gzip body has its own strong ETag: the identity ETag with `-gzip` inside the quotes
  (different bytes, different tag); conditional requests accept either spelling.
- HEAD runs as GET through the whole stack, then drops the body: the same status and headers,
  Content-Encoding and Content-Length included.
"""

import gzip

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

GZIP_SUFFIX = "-gzip"
# The scope flag of a request the response cache is filling from (app/cache.py).
FILL = "juriscope.cache_fill"
_COMPRESSIBLE = ("application/json", "application/problem+json", "text/", "application/xml")


def accepts_gzip(accept_encoding: str) -> bool:
    """True when the Accept-Encoding header gives gzip a quality above zero."""
    qualities: dict[str, float] = {}
    for part in accept_encoding.split(","):
        coding, *params = (piece.strip() for piece in part.split(";"))
        if not coding:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value) if value.strip().isascii() else 0.0
                except ValueError:
                    quality = 0.0
        qualities[coding.lower()] = quality
    if "gzip" in qualities:
        return qualities["gzip"] > 0
    if "x-gzip" in qualities:
        return qualities["x-gzip"] > 0
    return qualities.get("*", 0.0) > 0


def gzip_applies(accept_encoding: str, media: str, size: int, minimum: int = 1000) -> bool:
    """Whether a body of this type and size goes out gzip-encoded to this client."""
    return size >= minimum and media.startswith(_COMPRESSIBLE) and accepts_gzip(accept_encoding)


def representation_etag(etag: str, gzipped: bool) -> str:
    """The strong ETag of the identity or gzip representation of one body."""
    if gzipped and etag.endswith('"') and not etag.startswith("W/"):
        return identity_etag(etag)[:-1] + GZIP_SUFFIX + '"'
    return etag


def identity_etag(tag: str) -> str:
    """The identity ETag a (possibly gzip) tag stands for."""
    tag = tag.strip()
    suffixed = GZIP_SUFFIX + '"'
    return tag[: -len(suffixed)] + '"' if tag.endswith(suffixed) else tag


class GZipMiddleware:
    def __init__(self, app: ASGIApp, *, minimum_size: int = 1000, level: int = 5) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept_encoding = Headers(scope=scope).get("accept-encoding", "")
        vary = scope["method"] in ("GET", "HEAD")
        start: Message | None = None
        chunks: list[bytes] = []

        async def compress(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = MutableHeaders(scope=start)
            if vary:
                current = headers.get("vary")
                if not current or "accept-encoding" not in current.lower():
                    headers["Vary"] = (
                        f"{current}, Accept-Encoding" if current else "Accept-Encoding"
                    )
            media = headers.get("content-type", "")
            # Filling the response cache: it compresses a 200 itself, once, when it keeps it.
            filling = scope.get(FILL, False) and start["status"] == 200
            if (
                not filling
                and "content-encoding" not in headers
                and gzip_applies(accept_encoding, media, len(body), self.minimum_size)
            ):
                body = gzip.compress(body, compresslevel=self.level, mtime=0)
                headers["Content-Encoding"] = "gzip"
                if "etag" in headers:
                    headers["ETag"] = representation_etag(headers["etag"], gzipped=True)
            if "content-length" in headers or body:
                headers["Content-Length"] = str(len(body))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, compress)


class HeadMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        as_get = {**scope, "method": "GET"}
        await self.app(as_get, receive, without_body)
        if "route" in as_get:
            scope["route"] = as_get["route"]  # which route answered, for the metrics
