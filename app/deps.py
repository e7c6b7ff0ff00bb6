"""Shared dependency aliases: the session, the settings, the caller's key, list parameters."""

from typing import Annotated, Literal

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, get_settings
from app.db import get_read_session, get_session
from app.http import DEFAULT_LIMIT, MAX_LIMIT

# scope="function": the commit happens before the response is sent, so a failed commit is an
# error response, never a 200 for data that was not stored.
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
    Literal["json", "csv"] | None,
    Query(alias="format", description="`csv` for CSV (same as `Accept: text/csv`)."),
]

__all__ = [
    "DEFAULT_LIMIT",
    "CursorQuery",
    "FormatQuery",
    "LimitQuery",
    "ReadSessionDep",
    "SessionDep",
    "SettingsDep",
]
