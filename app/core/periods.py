"""Observation periods: `2024`, `2024-Q3`, `2024-06`, `2024-06-30`, and their date spans."""

import calendar
import functools
import re
from datetime import UTC, date, datetime

_PERIOD = re.compile(r"^([0-9]{4})(?:-Q([1-4])|-([0-9]{2})(?:-([0-9]{2}))?)?$")


@functools.lru_cache(maxsize=65536)
def parse_period(period: str) -> tuple[date, date]:
    """The first and last day a period covers; ValueError if it is not a valid period."""
    match = _PERIOD.fullmatch(period)
    if match is None:
        raise ValueError(f"{period!r} is not a period (2024, 2024-Q3, 2024-06 or 2024-06-30)")
    year, quarter, month, day = match.groups()
    y = int(year)
    if quarter:
        first_month = 3 * (int(quarter) - 1) + 1
        last_month = first_month + 2
        return date(y, first_month, 1), date(y, last_month, calendar.monthrange(y, last_month)[1])
    if month:
        m = int(month)
        if not 1 <= m <= 12:
            raise ValueError(f"{period!r}: month {m} does not exist")
        if day:
            try:
                d = date(y, m, int(day))
            except ValueError as error:
                raise ValueError(f"{period!r}: {error}") from None
            return d, d
        return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])
    return date(y, 1, 1), date(y, 12, 31)


def period_bound(value: str, *, end: bool) -> date:
    """A `from`/`to` filter value (a period or a date) as the date it starts or ends on."""
    start, last = parse_period(value)
    return last if end else start


def today() -> date:
    """Today in UTC: what `as_of` and `checked_on` default to."""
    return datetime.now(UTC).date()


def as_of_or_today(as_of: date | None) -> date:
    """The day a read is "as of": the one given, else today (UTC)."""
    return today() if as_of is None else as_of
