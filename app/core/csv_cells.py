"""CSV cells that are safe to open in a spreadsheet (OWASP's CSV injection advice)."""

from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, defused as OWASP recommends: a
    leading `'`. Numbers stay numbers (a negative number is not a formula)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def unescape_formula(cell: str) -> str:
    """The inverse of escape_formula, so that an exported CSV imports unchanged."""
    if cell.startswith("'") and cell[1:].startswith(_FORMULA_STARTS):
        return cell[1:]
    return cell
