"""List envelopes: pages, opaque keyset cursors, the next-page Link, and a list's JSON or
CSV response."""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Generic, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel, Field
from starlette.datastructures import URL

from app.core.errors import ValidationFailed
from app.http.negotiation import csv_response

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
