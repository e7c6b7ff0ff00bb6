"""Pydantic types shared across domains: identifiers and their normalisation."""

import re
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from app.core.errors import ValidationFailed
from app.core.models import CODE_PATTERN, KEY_PATTERN, SLUG_PATTERN
from app.core.periods import today


def ascii_fold(value: str, *, upper: bool) -> str:
    """An identifier as typed, case-folded in ASCII only and stripped of ASCII blanks: a
    non-ASCII spelling (`ſ`, `ı`, the Kelvin sign, NBSP) is left as it is, so the pattern
    refuses it instead of Unicode case mapping turning it into another resource's name."""
    value = value.strip(" \t")
    if not value.isascii():
        return value
    return value.upper() if upper else value.lower()


def _upper(value: object) -> object:
    return ascii_fold(value, upper=True) if isinstance(value, str) else value


def _lower(value: object) -> object:
    return ascii_fold(value, upper=False) if isinstance(value, str) else value


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_date_only(value: object) -> object:
    # pydantic would read a number as a Unix timestamp: a date is YYYY-MM-DD or nothing.
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("expected a date YYYY-MM-DD")


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store U+0000 in text or jsonb.
    if "\x00" in value:
        raise ValueError("text must not contain the NUL character")
    return value


def _not_a_bool(value: object) -> object:
    # pydantic would read true as 1.0: a number must be a number.
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


def _not_in_the_future(value: date) -> date:
    # A day of slack: a caller east of UTC may already be on tomorrow.
    if value > today() + timedelta(days=1):
        raise ValueError("checked_on cannot be in the future")
    return value


def _today_if_none(value: Any) -> Any:
    return today() if value is None else _iso_date_only(value)


CheckedOn = Annotated[
    date,
    BeforeValidator(_today_if_none),
    AfterValidator(_not_in_the_future),
    Field(
        description="When the value was last checked against its sources (defaults to the day "
        "it is written).",
        examples=["2026-11-30"],
    ),
]
Number = Annotated[float, BeforeValidator(_not_a_bool)]
NulFree = AfterValidator(_no_nul)

# Identifiers are case-insensitive on input: the documented patterns say so (a validator that
# normalises first would otherwise hide the pattern from the OpenAPI document).
JurisdictionCode = Annotated[
    str,
    BeforeValidator(_upper),
    StringConstraints(pattern=CODE_PATTERN, max_length=24),
    WithJsonSchema(
        {"type": "string", "maxLength": 24, "pattern": "^[A-Za-z]{2}(-[A-Za-z0-9]{1,8}){0,2}$"}
    ),
]
Key = Annotated[
    str,
    BeforeValidator(_lower),
    StringConstraints(pattern=KEY_PATTERN, max_length=80),
    WithJsonSchema(
        {"type": "string", "maxLength": 80, "pattern": "^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$"}
    ),
]
Slug = Annotated[
    str,
    BeforeValidator(_lower),
    StringConstraints(pattern=SLUG_PATTERN, max_length=120),
    WithJsonSchema(
        {"type": "string", "maxLength": 120, "pattern": "^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$"}
    ),
]

_CODE_RE = re.compile(CODE_PATTERN)


def parse_codes(raw: str | None, *, name: str = "jurisdictions") -> list[str] | None:
    """A comma-separated list of jurisdiction codes, uppercased and de-duplicated; a 422 that
    names each malformed code."""
    if raw is None:
        return None
    codes = list(
        dict.fromkeys(ascii_fold(part, upper=True) for part in raw.split(",") if part.strip(" \t"))
    )
    bad = [code for code in codes if not _CODE_RE.fullmatch(code)]
    if bad or not codes:
        raise ValidationFailed(
            f"{name}: not jurisdiction codes: {', '.join(bad)}" if bad else f"{name} is empty",
            errors=[
                {
                    "loc": ["query", name],
                    "msg": f"Invalid code {code!r}" if bad else "Empty list",
                    "type": "code",
                }
                for code in (bad or [""])
            ],
        )
    return codes


def parse_keys(raw: str | None, *, name: str) -> list[str] | None:
    """A comma-separated list of snake_case keys, lowercased and de-duplicated."""
    if raw is None:
        return None
    keys = list(
        dict.fromkeys(ascii_fold(part, upper=False) for part in raw.split(",") if part.strip(" \t"))
    )
    bad = [key for key in keys if not re.fullmatch(KEY_PATTERN, key)]
    if bad or not keys:
        raise ValidationFailed(
            f"{name}: not keys: {', '.join(bad)}" if bad else f"{name} is empty",
            errors=[
                {
                    "loc": ["query", name],
                    "msg": f"Invalid key {key!r}" if bad else "Empty list",
                    "type": "key",
                }
                for key in (bad or [""])
            ],
        )
    return keys


_SCALAR: list[dict[str, object]] = [{"type": "boolean"}, {"type": "number"}, {"type": "string"}]
# A feature value, typed by its feature's `value_type`: boolean; number (integer, number,
# percent); string (enum, text, and a date as YYYY-MM-DD). Validated by the domain, so the
# Python type stays open: a union here would coerce (9 to 9.0, "1" to 1) before the rules.
Scalar = Annotated[Any, WithJsonSchema({"anyOf": _SCALAR})]
ScalarOrNull = Annotated[Any, WithJsonSchema({"anyOf": [*_SCALAR, {"type": "null"}]})]
# A record's state in the change feed: the written fields as an object (null before a create
# and after a delete).
JsonRecord = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "object", "additionalProperties": True},
                {"type": "null"},
            ]
        }
    ),
]


SCORE_DECIMALS = 6


def round_score(value: float | None) -> float | None:
    return None if value is None else round(value, SCORE_DECIMALS)


# A computed score, share or contribution, rounded to 6 decimal places on the way out
# (90.0, not 89.99999999999999); computed, ranked and tied at full precision before that.
Score = Annotated[float, PlainSerializer(round_score, return_type=float)]
ScoreOrNull = Annotated[float | None, PlainSerializer(round_score, return_type=float | None)]
