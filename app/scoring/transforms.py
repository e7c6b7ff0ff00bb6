"""Transforms that turn one component's raw values into 0-1 scores across a compared set."""

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

RawValue: TypeAlias = bool | int | float | str
ComponentKind: TypeAlias = Literal["feature", "metric"]
TransformName: TypeAlias = Literal["enum_score", "boolean", "minmax", "log_minmax", "rank"]

TRANSFORMS: tuple[TransformName, ...] = ("enum_score", "boolean", "minmax", "log_minmax", "rank")


class ScoringError(ValueError):
    """Scoring input that cannot be scored: a bad value, weight, override or definition."""


@dataclass(frozen=True)
class Component:
    """One weighted part of an index: which feature or metric, and how it is normalised."""

    kind: ComponentKind
    key: str
    weight: float
    transform: TransformName


@dataclass(frozen=True)
class ComponentSpec:
    """A component plus what its definition says about direction and enum scores."""

    component: Component
    higher_is_better: bool | None = None
    enum_scores: Mapping[str, float] | None = None


def scorable(spec: ComponentSpec, value: RawValue) -> bool:
    """Whether the component's transform can take this one value (a stored value that it
    cannot, e.g. written before a rule existed, is left out of scoring like a missing one)."""
    transform = spec.component.transform
    try:
        if transform == "enum_score":
            _enum_score(spec, "", value)
        elif transform == "boolean":
            _boolean(spec, "", value)
        else:
            number = _number(spec, "", value)
            if transform == "log_minmax":
                _log1p(spec, "", number)
    except ScoringError:
        return False
    return True


def normalize(spec: ComponentSpec, values: Mapping[str, RawValue | None]) -> dict[str, float]:
    """Map code -> raw value to code -> 0-1 for the non-null values; raises ScoringError."""
    present = {code: value for code, value in values.items() if value is not None}
    transform = spec.component.transform
    if transform == "enum_score":
        return {code: _enum_score(spec, code, value) for code, value in present.items()}
    if transform == "boolean":
        return {code: _boolean(spec, code, value) for code, value in present.items()}
    numbers = {code: _number(spec, code, value) for code, value in present.items()}
    # None means the definition states no direction; numeric transforms then treat more as better.
    higher_is_better = spec.higher_is_better is not False
    if transform == "minmax":
        return _minmax(numbers, higher_is_better=higher_is_better)
    if transform == "log_minmax":
        logs = {code: _log1p(spec, code, x) for code, x in numbers.items()}
        return _minmax(logs, higher_is_better=higher_is_better)
    if transform == "rank":
        return _rank(numbers, higher_is_better=higher_is_better)
    raise ScoringError(
        f"component {spec.component.key!r} has unknown transform {transform!r}; "
        f"valid: {', '.join(TRANSFORMS)}"
    )


def _enum_score(spec: ComponentSpec, code: str, value: RawValue) -> float:
    """Look the value up in the component's enum score table; raises ScoringError."""
    key = spec.component.key
    table = spec.enum_scores
    if table is None:
        raise ScoringError(f"component {key!r} uses enum_score but has no enum score table")
    if not isinstance(value, str) or value not in table:
        raise ScoringError(
            f"component {key!r}: value {value!r} ({code}) is not in its enum score table; "
            f"valid: {', '.join(sorted(table))}"
        )
    score = float(table[value])
    # The table is trusted to encode direction, but a score outside 0-1 would push totals past 100.
    if not 0.0 <= score <= 1.0:
        raise ScoringError(f"component {key!r}: enum score {score!r} for {value!r} is not in 0-1")
    return score


def _boolean(spec: ComponentSpec, code: str, value: RawValue) -> float:
    """Score True as 1 and False as 0, inverted when lower is better; raises ScoringError."""
    if not isinstance(value, bool):
        raise ScoringError(
            f"component {spec.component.key!r} (boolean) needs true or false, "
            f"got {value!r} ({code})"
        )
    good = value if spec.higher_is_better is not False else not value
    return 1.0 if good else 0.0


def _number(spec: ComponentSpec, code: str, value: RawValue) -> float:
    """Return the value as a finite float; raises ScoringError for bools, text and non-finite."""
    component = spec.component
    # bool is a subclass of int: True would silently score as 1 without this check.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScoringError(
            f"component {component.key!r} ({component.transform}) needs a number, "
            f"got {value!r} ({code})"
        )
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ScoringError(
            f"component {component.key!r} ({component.transform}) needs a finite number, "
            f"got {value!r} ({code})"
        )
    return number


def _log1p(spec: ComponentSpec, code: str, number: float) -> float:
    """Return ln(1 + x) for x >= 0; raises ScoringError for negative values."""
    if number < 0:
        raise ScoringError(
            f"component {spec.component.key!r} (log_minmax) needs a value >= 0, "
            f"got {number!r} ({code})"
        )
    return math.log1p(number)


def _minmax(numbers: Mapping[str, float], *, higher_is_better: bool) -> dict[str, float]:
    """Scale to 0-1 between the smallest and largest value, best = 1."""
    if not numbers:
        return {}
    low, high = min(numbers.values()), max(numbers.values())
    if high == low:
        # No spread means nobody is behind; scoring everyone 1 also keeps a lone value from 0.
        return dict.fromkeys(numbers, 1.0)
    span = high - low
    scaled = {code: (x - low) / span for code, x in numbers.items()}
    if higher_is_better:
        return scaled
    return {code: 1.0 - share for code, share in scaled.items()}


def _rank(numbers: Mapping[str, float], *, higher_is_better: bool) -> dict[str, float]:
    """Competition-rank ("1224") best first and score rank r of n as 1 - (r - 1) / (n - 1)."""
    count = len(numbers)
    if count == 1:
        return dict.fromkeys(numbers, 1.0)
    ordered = sorted(numbers.values())
    result: dict[str, float] = {}
    for code, x in numbers.items():
        # Competition rank is 1 + the number of strictly better values, so ties share a rank.
        if higher_is_better:
            better = count - bisect.bisect_right(ordered, x)
        else:
            better = bisect.bisect_left(ordered, x)
        result[code] = 1.0 - better / (count - 1)
    return result
