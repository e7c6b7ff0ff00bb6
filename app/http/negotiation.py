"""Content negotiation (the Accept header and its q-values, 406) and CSV responses."""

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request, Response

from app.core.csv_cells import escape_formula
from app.core.errors import NotAcceptable


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
