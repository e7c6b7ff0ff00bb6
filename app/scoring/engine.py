"""Composite index scores, rankings and what-if scenarios over a compared set of jurisdictions."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeAlias

from app.scoring.transforms import (
    TRANSFORMS,
    Component,
    ComponentKind,
    ComponentSpec,
    RawValue,
    ScoringError,
    TransformName,
    normalize,
)

__all__ = [
    "TRANSFORMS",
    "Component",
    "ComponentKind",
    "ComponentScore",
    "ComponentSpec",
    "IndexResult",
    "JurisdictionScore",
    "RawValue",
    "ScenarioResult",
    "ScoringError",
    "TransformName",
    "effective_weights",
    "evaluate_scenario",
    "normalize",
    "same_raw",
    "score_index",
]

# Scores (and coverages) equal to this many decimals are equal: float noise must not split ties.
TIE_DECIMALS = 9

RawData: TypeAlias = Mapping[str, Mapping[str, RawValue | None]]

# Jurisdictions whose data covers less of an index's weight are listed unranked by default:
# a score from a few favourable values, the rest unknown, says more about the gaps than the place.
DEFAULT_MIN_COVERAGE = 0.8


@dataclass(frozen=True)
class ComponentScore:
    """One component of one jurisdiction: its raw value, 0-1 score and share of the total."""

    key: str
    kind: str
    weight: float
    transform: str
    raw: RawValue | None
    normalized: float | None
    contribution: float | None


@dataclass(frozen=True)
class JurisdictionScore:
    """A jurisdiction's place on the index: score 0-100 over the share of weight with data."""

    code: str
    rank: int | None
    score: float | None
    coverage: float
    components: tuple[ComponentScore, ...]


@dataclass(frozen=True)
class IndexResult:
    """The weights used and every jurisdiction of the compared set, ranked."""

    weights: dict[str, float]
    items: tuple[JurisdictionScore, ...]


@dataclass(frozen=True)
class ScenarioResult:
    """One jurisdiction before and after overrides, with the components that changed."""

    code: str
    baseline: JurisdictionScore
    scenario: JurisdictionScore
    score_delta: float | None
    rank_delta: int | None
    changed_components: tuple[tuple[ComponentScore, ComponentScore], ...]
    # The whole compared set before and after: overrides can move the others too.
    baseline_ranking: IndexResult
    scenario_ranking: IndexResult


def effective_weights(
    components: Sequence[Component], overrides: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Return the weights after overrides, renormalised to sum 1; raises ScoringError."""
    keys = _component_keys(components)
    weights: dict[str, float] = {}
    for component in components:
        weights[component.key] = _checked_weight(component.key, component.weight)
    if overrides:
        unknown = sorted(set(overrides) - set(weights))
        if unknown:
            raise ScoringError(
                f"unknown weight component(s): {', '.join(unknown)}; valid: {', '.join(keys)}"
            )
        for key, weight in overrides.items():
            weights[key] = _checked_weight(key, weight)
    total = math.fsum(weights.values())
    if total == 0:
        raise ScoringError("weights sum to zero: at least one component needs a positive weight")
    if not math.isfinite(total):
        raise ScoringError("weights are too large to add up")
    return {key: weight / total for key, weight in weights.items()}


def score_index(
    specs: Sequence[ComponentSpec],
    raw: RawData,
    *,
    weights: Mapping[str, float] | None = None,
    min_coverage: float = 0.0,
) -> IndexResult:
    """Score and rank every jurisdiction in raw on the index; raises ScoringError."""
    if (
        isinstance(min_coverage, bool)
        or not isinstance(min_coverage, int | float)
        or not 0.0 <= min_coverage <= 1.0
    ):
        raise ScoringError(f"min_coverage must be between 0 and 1, got {min_coverage!r}")
    effective = effective_weights([spec.component for spec in specs], weights)
    # Min-max bounds and ranks depend on the whole compared set, so normalise per component first.
    normalized = {
        spec.component.key: normalize(
            spec, {code: values.get(spec.component.key) for code, values in raw.items()}
        )
        for spec in specs
    }
    scores = [
        _score_jurisdiction(
            code,
            specs,
            raw[code],
            weights=effective,
            normalized=normalized,
            min_coverage=min_coverage,
        )
        for code in raw
    ]
    return IndexResult(weights=effective, items=_ranked(scores))


def evaluate_scenario(
    specs: Sequence[ComponentSpec],
    raw: RawData,
    *,
    code: str,
    overrides: Mapping[str, RawValue | None],
    weights: Mapping[str, float] | None = None,
    min_coverage: float = 0.0,
) -> ScenarioResult:
    """Re-score the index with one jurisdiction's values overridden; raises ScoringError."""
    if code not in raw:
        raise ScoringError(f"jurisdiction {code!r} is not in the compared set")
    keys = _component_keys([spec.component for spec in specs])
    unknown = sorted(set(overrides) - set(keys))
    if unknown:
        raise ScoringError(
            f"override names no component of the index: {', '.join(unknown)}; "
            f"valid: {', '.join(keys)}"
        )
    changed_raw = {**raw, code: {**raw[code], **overrides}}
    baseline_ranking = score_index(specs, raw, weights=weights, min_coverage=min_coverage)
    scenario_ranking = score_index(specs, changed_raw, weights=weights, min_coverage=min_coverage)
    baseline = _item(baseline_ranking, code)
    scenario = _item(scenario_ranking, code)
    score_delta = (
        None
        if baseline.score is None or scenario.score is None
        else scenario.score - baseline.score
    )
    rank_delta = (
        None if baseline.rank is None or scenario.rank is None else scenario.rank - baseline.rank
    )
    changed = tuple(
        (before, after)
        for before, after in zip(baseline.components, scenario.components, strict=True)
        if not same_raw(before.raw, after.raw) or before.normalized != after.normalized
    )
    return ScenarioResult(
        code=code,
        baseline=baseline,
        scenario=scenario,
        score_delta=score_delta,
        rank_delta=rank_delta,
        changed_components=changed,
        baseline_ranking=baseline_ranking,
        scenario_ranking=scenario_ranking,
    )


def _component_keys(components: Sequence[Component]) -> list[str]:
    """Return the component keys in order; raises ScoringError when a key repeats."""
    keys = [component.key for component in components]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ScoringError(f"index lists component(s) more than once: {', '.join(duplicates)}")
    return keys


MAX_WEIGHT = 1e6  # weights are relative: bounded so that their sum stays finite


def _checked_weight(key: str, weight: float) -> float:
    """Return the weight as a float; raises ScoringError unless it is a finite number >= 0."""
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise ScoringError(f"weight of {key!r} must be a number, got {weight!r}")
    try:
        number = float(weight)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or not 0 <= number <= MAX_WEIGHT:
        raise ScoringError(f"weight of {key!r} must be a number from 0 to 1e6, got {weight!r}")
    return number


def _score_jurisdiction(
    code: str,
    specs: Sequence[ComponentSpec],
    values: Mapping[str, RawValue | None],
    *,
    weights: Mapping[str, float],
    normalized: Mapping[str, Mapping[str, float]],
    min_coverage: float,
) -> JurisdictionScore:
    """Score one jurisdiction as the weighted mean of the components it has data for."""
    present = [spec.component.key for spec in specs if values.get(spec.component.key) is not None]
    # Renormalised weights can add up to 1 + an ulp; coverage is a share, so cap it.
    coverage = min(1.0, math.fsum(weights[key] for key in present))
    # Missing data is left out rather than scored 0: it lowers coverage, not the score.
    scored = coverage > 0 and round(coverage, TIE_DECIMALS) >= round(min_coverage, TIE_DECIMALS)
    components: list[ComponentScore] = []
    for spec in specs:
        component = spec.component
        share = normalized[component.key].get(code)
        contribution = (
            100.0 * weights[component.key] * share / coverage
            if scored and share is not None
            else None
        )
        components.append(
            ComponentScore(
                key=component.key,
                kind=component.kind,
                weight=weights[component.key],
                transform=component.transform,
                raw=values.get(component.key),
                normalized=share,
                contribution=contribution,
            )
        )
    score = None
    if scored:
        # The sum of the contributions is the score, so a client can recompute it from them;
        # the cap only removes float noise past 100.
        total = math.fsum(c.contribution for c in components if c.contribution is not None)
        score = min(100.0, total)
    return JurisdictionScore(
        code=code, rank=None, score=score, coverage=coverage, components=tuple(components)
    )


def _ranked(scores: Sequence[JurisdictionScore]) -> tuple[JurisdictionScore, ...]:
    """Order by score (ties by code) with competition ranks; unscored last, by code, unranked."""
    keyed = sorted(
        (-round(item.score, TIE_DECIMALS), item.code, item)
        for item in scores
        if item.score is not None
    )
    ranked: list[JurisdictionScore] = []
    previous: float | None = None
    rank = 0
    for position, (key, _, item) in enumerate(keyed, start=1):
        if key != previous:
            rank, previous = position, key
        ranked.append(replace(item, rank=rank))
    unscored = sorted((item for item in scores if item.score is None), key=lambda i: i.code)
    return (*ranked, *unscored)


def _item(result: IndexResult, code: str) -> JurisdictionScore:
    """Return the code's item from an index result."""
    return next(item for item in result.items if item.code == code)


def same_raw(before: RawValue | None, after: RawValue | None) -> bool:
    """Say whether two raw values are the same, not letting True pass for 1."""
    return before == after and isinstance(before, bool) == isinstance(after, bool)
