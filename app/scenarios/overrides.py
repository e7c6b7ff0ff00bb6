"""What-if overrides: their shape, and the rules one override list is checked against. One set
of rules for POST /v1/scenarios/evaluate, saved scenarios and dataset imports."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.schemas import Key, ScalarOrNull
from app.features.rules import check_value


class Override(BaseModel):
    """A what-if value for one feature or one metric of the scenario's jurisdiction. A null
    value means "no value" (the component then counts as missing data)."""

    model_config = ConfigDict(extra="forbid")

    feature: Key | None = Field(default=None, examples=["regulatory_sandbox"])
    metric: Key | None = Field(default=None, examples=[None])
    value: ScalarOrNull = Field(examples=[True])

    @model_validator(mode="after")
    def _one_target(self) -> "Override":
        if (self.feature is None) == (self.metric is None):
            raise ValueError("give exactly one of `feature` or `metric`")
        return self

    @property
    def key(self) -> str:
        return self.feature or self.metric or ""

    @property
    def kind(self) -> str:
        return "feature" if self.feature else "metric"


@dataclass(frozen=True)
class FeatureType:
    """What an override of a feature must fit: its value type and allowed values."""

    value_type: str
    allowed_values: list[dict[str, Any]] | None


@dataclass(frozen=True)
class OverrideProblem:
    number: int
    field: str
    message: str


def check_overrides(
    overrides: Sequence[Override],
    *,
    features: Mapping[str, FeatureType],
    bilateral: Mapping[str, bool],
) -> tuple[dict[str, Any], list[OverrideProblem]]:
    """The overrides as component key -> value (each validated as a write would be), and a
    problem per invalid override, in order. `bilateral` maps each known metric key to
    whether it is bilateral."""
    checked: dict[str, Any] = {}
    problems: list[OverrideProblem] = []
    for number, override in enumerate(overrides):
        if override.key in checked:
            problems.append(
                OverrideProblem(number, override.kind, f"{override.key!r} is overridden twice")
            )
            continue
        value = override.value
        if override.feature:
            feature = features.get(override.feature)
            if feature is None:
                problems.append(
                    OverrideProblem(number, "feature", f"no feature with key {override.feature!r}")
                )
                continue
            if value is not None:
                try:
                    value = check_value(feature.value_type, feature.allowed_values, value)
                except ValueError as error:
                    problems.append(OverrideProblem(number, "value", str(error)))
                    continue
        else:
            metric = override.metric or ""
            if metric not in bilateral:
                problems.append(OverrideProblem(number, "metric", f"no metric with key {metric!r}"))
                continue
            if bilateral[metric]:
                problems.append(
                    OverrideProblem(number, "metric", f"{metric!r} is bilateral: not scorable")
                )
                continue
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                problems.append(
                    OverrideProblem(number, "value", f"expected a finite number, got {value!r}")
                )
                continue
        checked[override.key] = value
    return checked, problems
