"""The response cache's entries: both representations of an answer (identity and gzip,
each with its strong ETag and the headers a 304 repeats), and the request headers a cached
answer depends on, read in one pass (app/http/cache.py keeps and serves them)."""

import gzip
from dataclasses import dataclass
from functools import lru_cache

from starlette.types import Message, Scope

from app.http.compression import GZIP_SUFFIX, accepts_gzip, gzip_applies, identity_etag
from app.http.protection import SECURITY_HEADERS

# Headers of one response only: never stored.
_PER_RESPONSE = {b"content-length", b"ratelimit", b"ratelimit-policy", b"x-cache", b"date"}
_NOT_MODIFIED = {b"etag", b"cache-control", b"vary", b"link"} | {
    name for name, _ in SECURITY_HEADERS
}


@dataclass(frozen=True, slots=True)
class Representation:
    headers: list[tuple[bytes, bytes]]  # content-length included
    not_modified: list[tuple[bytes, bytes]]
    etag: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Entry:
    identity: Representation
    gzip: Representation | None
    route: str | None

    @property
    def size(self) -> int:
        return len(self.identity.body) + (len(self.gzip.body) if self.gzip else 0)


@dataclass(slots=True)
class CachedRequest:
    """The request headers a cached answer depends on, read in one pass."""

    authorization: str | None = None
    accept: bytes = b""
    accept_encoding: str = ""
    if_none_match: str | None = None
    origin: bool = False
    has_body: bool = False


def read_headers(scope: Scope) -> CachedRequest:
    request = CachedRequest()
    for name, value in scope["headers"]:
        if name == b"authorization":
            request.authorization = value.decode("latin-1")
        elif name == b"accept":
            request.accept = value
        elif name == b"accept-encoding":
            request.accept_encoding = value.decode("latin-1")
        elif name == b"if-none-match":
            request.if_none_match = value.decode("latin-1")
        elif name == b"origin":
            request.origin = True
        elif name in (b"content-length", b"transfer-encoding"):
            request.has_body = True
    return request


@lru_cache(maxsize=256)
def wants_gzip(accept_encoding: str) -> bool:
    return accepts_gzip(accept_encoding)


def representation(headers: list[tuple[bytes, bytes]], etag: str, body: bytes) -> Representation:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    return Representation(
        headers=headers,
        not_modified=[(name, value) for name, value in headers if name in _NOT_MODIFIED],
        etag=etag,
        body=body,
    )


def make_entry(
    start: Message, body: bytes, *, route: str | None, minimum_gzip: int, level: int
) -> Entry:
    """Both representations of an identity 200 response: the gzip body compressed once."""
    kept = [
        (name.lower(), value)
        for name, value in start["headers"]
        if name.lower() not in _PER_RESPONSE
    ]
    etag = next((value.decode() for name, value in kept if name == b"etag"), "")
    identity = representation(kept, etag, body)
    media = next((value.decode() for name, value in kept if name == b"content-type"), "")
    compressed = None
    if gzip_applies("gzip", media, len(body), minimum_gzip):
        gzip_etag = (
            identity_etag(etag)[:-1] + GZIP_SUFFIX + '"'
            if etag.endswith('"') and not etag.startswith("W/")
            else etag
        )
        gzip_headers = [
            (name, gzip_etag.encode() if name == b"etag" else value) for name, value in kept
        ]
        gzip_headers.append((b"content-encoding", b"gzip"))
        compressed = representation(
            gzip_headers, gzip_etag, gzip.compress(body, compresslevel=level, mtime=0)
        )
    return Entry(identity=identity, gzip=compressed, route=route)
