"""The explorer's page at `/` and its assets under `/explorer/`.

The page is plain HTML, CSS and JavaScript modules shipped in the package; it reads the data
through the public `/v1` API like any other client (same CORS, caching and rate limits), so
nothing here touches the database. A strict Content-Security-Policy keeps everything it
loads, runs or connects to on this origin.
"""

import os
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.http.compression import identity_etag

STATIC_DIR = Path(__file__).parent / "static"
ASSETS_PATH = "/explorer"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
# Revalidated on every use (ETag, Last-Modified), so a new release is seen at once.
EXPLORER_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}


class ExplorerAssets(StaticFiles):
    """The explorer's files with its security policy. A gzip representation's ETag (see
    app.http.compression) revalidates like the identity one."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(EXPLORER_HEADERS)
        return response

    def is_not_modified(self, response_headers: Headers, request_headers: Headers) -> bool:
        if_none_match = request_headers.get("if-none-match")
        if if_none_match and if_none_match.strip() != "*":
            etag = response_headers["etag"]
            return any(
                identity_etag(tag.strip().removeprefix("W/")) == etag
                for tag in if_none_match.split(",")
            )
        return super().is_not_modified(response_headers, request_headers)


assets = ExplorerAssets(directory=STATIC_DIR)
router = APIRouter(include_in_schema=False)


@router.get("/", include_in_schema=False)
async def explorer_page(request: Request) -> Response:
    """The explorer (HTML); not part of the API."""
    return await assets.get_response("index.html", request.scope)
