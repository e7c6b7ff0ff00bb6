"""HTTP conventions shared by every endpoint: list envelopes and cursors, ETags, CSV."""

import base64
import binascii
import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, Generic, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel, Field
from starlette.datastructures import URL

from app.core.csv_cells import escape_formula
from app.core.errors import NotAcceptable, ValidationFailed

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    """A page of a list: the items and the cursor of the next page (null on the last)."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page (always present)."
    )


P = TypeVar("P", bound=Page[Any])


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_part(value: Any, kind: type) -> Any:
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
            return value
    elif kind is date:
        if isinstance(value, str):
            return date.fromisoformat(value)
    elif isinstance(value, str):
        return value
    raise ValueError(value)


def decode_cursor(cursor: str | None, *parts: type) -> list[Any] | None:
    """The keyset position a cursor stands for, its parts of the given types (str, int or
    date); a tampered cursor is a 422 naming it, never a 500."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, list) or len(key) != len(parts):
            raise ValueError(key)
        return [_cursor_part(value, kind) for value, kind in zip(key, parts, strict=True)]
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            "The cursor is not one this API issued; start again without it.",
            errors=[{"loc": ["query", "cursor"], "msg": "Invalid cursor", "type": "cursor"}],
        ) from None


def paginate(
    rows: list[T], *, limit: int, key: Callable[[T], Sequence[Any]]
) -> tuple[list[T], str | None]:
    """Split `limit + 1` fetched rows into the page and the next cursor."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(key(rows[-1]))
    return rows, None


def next_link(request: Request, cursor: str | None) -> dict[str, str]:
    """The `Link: <...>; rel="next"` header for a page, if there is a next page.

    The link is relative to the request (RFC 8288), or absolute on JURISCOPE_PUBLIC_URL:
    never built from the Host header, which a client controls and a cache would replay."""
    if cursor is None:
        return {}
    url: URL = request.url.include_query_params(cursor=cursor)
    base = request.app.state.settings.public_url or ""
    return {"Link": f'<{base}{url.path}?{url.query}>; rel="next"'}


def is_api_path(path: str) -> bool:
    """True for the API's own paths: /v1 (the index) and everything under it."""
    return path == "/v1" or path.startswith("/v1/")


def strong_etag(*parts: Any) -> str:
    digest = hashlib.blake2b(
        json.dumps(parts, default=str, separators=(",", ":")).encode(), digest_size=16
    ).hexdigest()
    return f'"{digest}"'


def body_etag(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges


def negotiate(accept: str, offers: Sequence[str]) -> str | None:
    """The offered media type the Accept header prefers, or None if it accepts none.

    Each offer's quality comes from the most specific range that matches it (exact, then
    `type/*`, then `*/*`). The highest quality wins; on a tie, the offer whose range comes
    first in the header wins, then the first offer.
    """
    if not accept.strip():
        return offers[0]
    ranges = _ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for offer_position, offer in enumerate(offers):
        kind = offer.split("/")[0]
        matches = [
            (3 if media == offer else 2 if media == f"{kind}/*" else 1, quality, position)
            for position, (media, quality) in enumerate(ranges)
            if media in (offer, f"{kind}/*", "*/*")
        ]
        if not matches:
            continue
        _, quality, position = max(matches, key=lambda match: match[0])
        rank = (quality, -position, -offer_position)
        if quality > 0 and (best is None or rank > best):
            best, chosen = rank, offer
    return chosen


def wants_csv(request: Request, format_: str | None) -> bool:
    """True when `format=csv`, or when the Accept header prefers text/csv to JSON; a 406 when
    it accepts neither."""
    if format_ is not None:
        return format_ == "csv"
    accept = request.headers.get("accept", "")
    chosen = negotiate(accept, ("application/json", "text/csv"))
    if chosen is None:
        raise NotAcceptable(
            f"Cannot produce {accept!r}; this endpoint serves application/json and text/csv."
        )
    return chosen == "text/csv"


def ensure_json_acceptable(request: Request) -> None:
    """406 when the Accept header rules JSON out."""
    accept = request.headers.get("accept", "")
    if negotiate(accept, ("application/json",)) is None:
        raise NotAcceptable(f"Cannot produce {accept!r}; this endpoint serves application/json.")


def _raw_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(_raw_cell(v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return value


def _cell(value: Any) -> Any:
    """A CSV cell; text that a spreadsheet would run as a formula gets a leading `'`."""
    return escape_formula(_raw_cell(value))


def csv_response(
    columns: Sequence[str], rows: Iterable[dict[str, Any]], *, headers: dict[str, str] | None = None
) -> Response:
    """A text/csv response with a header row and one row per item (lists joined by `;`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers or {})


CSV_CONTENT = {"text/csv": {"schema": {"type": "string"}}}


def _json_row(item: BaseModel) -> dict[str, Any]:
    return item.model_dump(mode="json")


def list_response(
    request: Request,
    response: Response,
    rows: list[M],
    *,
    limit: int,
    key: Callable[[M], Sequence[Any]],
    page: type[P],
    as_csv: bool,
    columns: Sequence[str],
    row: Callable[[M], dict[str, Any]] = _json_row,
) -> P | Response:
    """The list envelope (or CSV) of `limit + 1` fetched rows, with the next-page Link."""
    items, cursor = paginate(rows, limit=limit, key=key)
    headers = next_link(request, cursor)
    if as_csv:
        return csv_response(columns, (row(item) for item in items), headers=headers)
    response.headers.update(headers)
    return page(items=items, next_cursor=cursor)


def resource_etag(model: BaseModel) -> str:
    """The ETag of a single resource's representation: GET sets it, If-Match is checked
    against it."""
    return strong_etag(model.model_dump(mode="json"))
