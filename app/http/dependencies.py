"""Shared dependency aliases: the session, the settings, the caller's key, list parameters."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings, get_settings
from app.core.db import get_read_session, get_session
from app.core.errors import ValidationFailed
from app.core.periods import as_of_or_today, period_bound
from app.core.schemas import IsoDate
from app.http.lists import DEFAULT_LIMIT, MAX_LIMIT, M, P, decode_cursor, list_response
from app.http.negotiation import ensure_json_acceptable, wants_csv


# scope="function": the commit happens before the response is sent, so a failed commit is an
# error response, never a 200 for data that was not stored.
class ResponseFormat(StrEnum):
    """The representation of a list: JSON (the default) or CSV."""

    json = "json"
    csv = "csv"


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]

LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (max {MAX_LIMIT}).")
]
CursorQuery = Annotated[
    str | None,
    Query(max_length=512, description="Opaque cursor from a previous page's `next_cursor`."),
]
FormatQuery = Annotated[
    ResponseFormat | None,
    Query(alias="format", description="`csv` for CSV (same as `Accept: text/csv`)."),
]

AsOfQuery = Annotated[
    IsoDate | None,
    Query(
        description="What was in force on this date (default today): a value is in force "
        "when valid_from <= as_of < valid_to (or valid_to is null)."
    ),
]


async def get_as_of(as_of: AsOfQuery = None) -> date:
    """The `as_of` query parameter, defaulted to today: every read's one place for it."""
    return as_of_or_today(as_of)


AsOf = Annotated[date, Depends(get_as_of)]

HistoryQuery = Annotated[
    bool,
    Query(
        description="Return every interval of the history instead of the values in force "
        "on `as_of`."
    ),
]
CodesQuery = Annotated[
    str | None,
    Query(
        description="Comma-separated jurisdiction codes, case-insensitive (e.g. `HK,SG`).",
        max_length=2000,
        examples=["HK,SG,AE-DU"],
    ),
]

FromQuery = Annotated[
    str | None,
    Query(
        alias="from",
        max_length=10,
        description="Start: a year (`2023`), quarter (`2024-Q3`), month (`2024-06`) or date.",
        examples=["2023"],
    ),
]
ToQuery = Annotated[
    str | None,
    Query(
        max_length=10,
        description="End (inclusive): a year, quarter, month or date.",
        examples=["2024-Q4"],
    ),
]
MrvQuery = Annotated[
    int | None,
    Query(
        ge=1, le=1000, description="Most recent values: the N latest observations of each series."
    ),
]


def period_range(from_: str | None, to: str | None) -> tuple[date | None, date | None]:
    """`from`/`to` as the first and last day they cover; a 422 naming a bad one."""
    bounds: list[date | None] = []
    for name, value, end in (("from", from_, False), ("to", to, True)):
        if value is None:
            bounds.append(None)
            continue
        try:
            bounds.append(period_bound(value, end=end))
        except ValueError as error:
            raise ValidationFailed(
                f"{name}: {error}",
                errors=[{"loc": ["query", name], "msg": str(error), "type": "period"}],
            ) from None
    start, finish = bounds
    if start and finish and start > finish:
        raise ValidationFailed(
            "from is after to",
            errors=[{"loc": ["query", "from"], "msg": "from is after to", "type": "range"}],
        )
    return start, finish


# For endpoints that only produce JSON: a 406 when Accept rules it out.
JSON_ONLY = Depends(ensure_json_acceptable)

__all__ = [
    "ListRequest",
    "Listing",
    "JSON_ONLY",
    "FromQuery",
    "MrvQuery",
    "ToQuery",
    "period_range",
    "AsOf",
    "AsOfQuery",
    "CodesQuery",
    "HistoryQuery",
    "DEFAULT_LIMIT",
    "CursorQuery",
    "FormatQuery",
    "LimitQuery",
    "ReadSessionDep",
    "SessionDep",
    "SettingsDep",
]


@dataclass
class ListRequest:
    """What every list endpoint takes: page size, cursor and representation."""

    request: Request
    response: Response
    limit: int
    cursor: str | None
    as_csv: bool

    def position(self, *parts: type) -> list[Any] | None:
        """The keyset position of the cursor, parts of the given types (422 if tampered)."""
        return decode_cursor(self.cursor, *parts)

    def respond(
        self,
        rows: list[M],
        *,
        key: Callable[[M], Sequence[Any]],
        page: type[P],
        columns: Sequence[str],
    ) -> P | Response:
        """The page (or CSV) of `limit + 1` fetched rows, with the next-page Link."""
        return list_response(
            self.request,
            self.response,
            rows,
            limit=self.limit,
            key=key,
            page=page,
            as_csv=self.as_csv,
            columns=columns,
        )


async def list_request(
    request: Request,
    response: Response,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    format: FormatQuery = None,
) -> ListRequest:
    # Negotiated first, so that a 406 costs no database work.
    return ListRequest(
        request=request,
        response=response,
        limit=limit,
        cursor=cursor,
        as_csv=wants_csv(request, format),
    )


Listing = Annotated[ListRequest, Depends(list_request)]


async def no_nul_in_query(request: Request) -> None:
    """A 422 naming any query parameter holding U+0000, which PostgreSQL cannot take."""
    bad = [name for name, value in request.query_params.multi_items() if "\x00" in value]
    if bad:
        raise ValidationFailed(
            f"Query parameters must not contain the NUL character: {', '.join(bad)}",
            errors=[
                {
                    "loc": ["query", name],
                    "msg": "Contains the NUL character",
                    "type": "nul_character",
                }
                for name in bad
            ],
        )
