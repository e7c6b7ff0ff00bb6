"""Column types and vocabularies shared by several domains' ORM models."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from sqlalchemy import Date, DateTime, func, text
from sqlalchemy.orm import mapped_column

CODE_PATTERN = r"^[A-Z]{2}(-[A-Z0-9]{1,8}){0,2}$"
KEY_PATTERN = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"

CreatedAt = Annotated[
    datetime, mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
]
# When a value was last checked against its sources; a row written without one is checked on
# the day it is written (migration 4f8b2c6e9d15).
CheckedOn = Annotated[
    date, mapped_column(Date, server_default=text("current_date"), nullable=False)
]
UpdatedAt = Annotated[
    datetime,
    mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    ),
]


class Confidence(StrEnum):
    """How well a value is established by its sources."""

    verified = "verified"
    reported = "reported"
    estimated = "estimated"
    disputed = "disputed"
    # The only sources cite a primary that cannot be found: shown, never used by an index.
    unverified = "unverified"


class Bound(StrEnum):
    """What an observation's value is when its source gives only a bound ("less than 0.5%")."""

    lt = "lt"
    le = "le"
    gt = "gt"
    ge = "ge"


def in_check(column: str, values: type[StrEnum]) -> str:
    """SQL for a CHECK constraint that keeps `column` within an enum's values."""
    quoted = ", ".join(f"'{member.value}'" for member in values)
    return f"{column} IN ({quoted})"
