"""What-if scenarios: overrides validated like writes, the index recomputed, nothing stored."""

import math
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFoundError, ValidationFailed
from app.features.models import Feature
from app.features.rules import check_value
from app.indices import service as indices_service
from app.indices.scoring import scoring_failed
from app.metrics.models import Metric
from app.scenarios.schemas import (
    ChangedComponent,
    ComponentState,
    ScenarioRequest,
    ScenarioResult,
    Standing,
)
from app.scoring.engine import ScoringError, evaluate_scenario
from app.scoring.transforms import scorable


def _invalid(number: int, field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"overrides.{number}.{field}: {message}",
        errors=[{"loc": ["body", "overrides", number, field], "msg": message, "type": "override"}],
    )


async def _checked_overrides(session: AsyncSession, request: ScenarioRequest) -> dict[str, Any]:
    """The overrides as component key -> value, each validated as a write would be."""
    feature_keys = [o.feature for o in request.overrides if o.feature]
    metric_keys = [o.metric for o in request.overrides if o.metric]
    features = {
        f.key: f
        for f in await session.scalars(select(Feature).where(Feature.key.in_(feature_keys)))
    }
    metrics = {
        m.key: m for m in await session.scalars(select(Metric).where(Metric.key.in_(metric_keys)))
    }
    checked: dict[str, Any] = {}
    for number, override in enumerate(request.overrides):
        if override.key in checked:
            raise _invalid(
                number,
                "feature" if override.feature else "metric",
                f"{override.key!r} is overridden twice",
            )
        if override.feature:
            feature = features.get(override.feature)
            if feature is None:
                raise _invalid(number, "feature", f"no feature with key {override.feature!r}")
            value = override.value
            if value is not None:
                try:
                    value = check_value(feature.value_type, feature.allowed_values, value)
                except ValueError as error:
                    raise _invalid(number, "value", str(error)) from None
        else:
            metric = metrics.get(override.metric or "")
            if metric is None:
                raise _invalid(number, "metric", f"no metric with key {override.metric!r}")
            if metric.bilateral:
                raise _invalid(number, "metric", f"{metric.key!r} is bilateral: not scorable")
            value = override.value
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise _invalid(number, "value", f"expected a finite number, got {value!r}")
        checked[override.key] = value
    return checked


async def evaluate(
    session: AsyncSession, request: ScenarioRequest, *, today: date
) -> ScenarioResult:
    """Baseline and scenario standing of the request's jurisdiction on its index."""
    index, specs = await indices_service.index_specs(session, request.index)
    overrides = await _checked_overrides(session, request)
    codes = list(dict.fromkeys(request.jurisdictions)) if request.jurisdictions else None
    if codes is not None and request.jurisdiction not in codes:
        raise ValidationFailed(
            "jurisdictions must include the scenario's jurisdiction",
            errors=[
                {
                    "loc": ["body", "jurisdictions"],
                    "type": "missing",
                    "msg": f"{request.jurisdiction} is not in the compared set",
                }
            ],
        )
    as_of = request.as_of or today
    names, raw = await indices_service.raw_values(session, specs, codes=codes, as_of=as_of)
    if request.jurisdiction not in names:
        raise NotFoundError(f"No jurisdiction with code {request.jurisdiction!r}.")
    component_keys = {spec.component.key for spec in specs}
    used = {key: value for key, value in overrides.items() if key in component_keys}
    unscorable = [
        spec.component.key
        for spec in specs
        if used.get(spec.component.key) is not None and not scorable(spec, used[spec.component.key])
    ]
    if unscorable:
        raise ValidationFailed(
            f"overrides: the index's transform cannot take the value of {', '.join(unscorable)}",
            errors=[
                {
                    "loc": ["body", "overrides", key],
                    "type": "transform",
                    "msg": "out of the transform's domain (log_minmax needs a value >= 0)",
                }
                for key in unscorable
            ],
        )
    try:
        result = evaluate_scenario(
            specs,
            raw,
            code=request.jurisdiction,
            overrides=used,
            weights=request.weights,
            min_coverage=request.min_coverage,
        )
        weights = dict(
            zip(
                [s.component.key for s in specs],
                [c.weight for c in result.baseline.components],
                strict=True,
            )
        )
    except ScoringError as error:
        raise scoring_failed(error, ["body", "weights"]) from None
    return ScenarioResult(
        index=index.key,
        jurisdiction=request.jurisdiction,
        name=names[request.jurisdiction],
        as_of=as_of,
        compared=len(names),
        weights=weights,
        baseline=Standing(
            score=result.baseline.score,
            rank=result.baseline.rank,
            coverage=result.baseline.coverage,
        ),
        scenario=Standing(
            score=result.scenario.score,
            rank=result.scenario.rank,
            coverage=result.scenario.coverage,
        ),
        score_delta=result.score_delta,
        rank_delta=result.rank_delta,
        changed_components=[
            ChangedComponent(
                key=before.key,
                kind=before.kind,
                weight=before.weight,
                baseline=ComponentState(
                    raw=before.raw, normalized=before.normalized, contribution=before.contribution
                ),
                scenario=ComponentState(
                    raw=after.raw, normalized=after.normalized, contribution=after.contribution
                ),
            )
            for before, after in result.changed_components
        ],
        unused_overrides=[key for key in overrides if key not in component_keys],
    )
