"""The typing rules of feature values: one implementation for the loader, writes and scenarios."""

import math
import re
from datetime import date
from typing import Any

NUMERIC_TYPES = frozenset({"integer", "number", "percent"})
DIRECTED_TYPES = NUMERIC_TYPES | {"boolean"}
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def check_value(value_type: str, allowed_values: list[dict[str, Any]] | None, value: Any) -> Any:
    """`value` as stored for a feature of `value_type`; ValueError saying why if it does not fit.

    Booleans are JSON true/false; integers whole numbers; numbers and percents finite numbers
    (a percent is 16.5, not 0.165, and lies in [-100, 100] unless it is a change); enums one of
    the allowed values; dates ISO `YYYY-MM-DD`; texts non-empty strings.
    """
    if value is None:
        raise ValueError("a value is required (null is not a value; omit the record instead)")
    if value_type == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if value_type in NUMERIC_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {value!r}")
        if isinstance(value, int) and abs(value) > 10**15:
            raise ValueError("expected a number of magnitude at most 1e15")
        if not math.isfinite(value) or abs(value) > 1e15:
            raise ValueError(f"expected a finite number of magnitude at most 1e15, got {value!r}")
        if value_type == "integer":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"expected a whole number, got {value!r}")
            return int(value)
        return value
    if value_type == "enum":
        options = [option["value"] for option in allowed_values or []]
        if value not in options:
            raise ValueError(f"{value!r} is not one of the allowed values {options}")
        return value
    if value_type == "date":
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a calendar date") from None
        return value
    if value_type == "text":
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"expected a non-empty text, got {value!r}")
        if "\x00" in value:
            raise ValueError("text must not contain the NUL character")
        return value
    raise ValueError(f"unknown value type {value_type!r}")


def enum_scores(allowed_values: list[dict[str, Any]] | None) -> dict[str, float]:
    return {option["value"]: float(option["score"]) for option in allowed_values or []}


def value_score(
    value_type: str,
    allowed_values: list[dict[str, Any]] | None,
    higher_is_better: bool | None,
    value: Any,
) -> float | None:
    """The 0-1 score of a single value where it needs no comparison set (enum, boolean)."""
    if value_type == "enum":
        return enum_scores(allowed_values).get(value)
    if value_type == "boolean":
        good = value if higher_is_better is not False else not value
        return 1.0 if good else 0.0
    return None
