"""What-if scenarios: overrides validated like writes, the index recomputed, nothing stored."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import service as changes_service
from app.core.errors import ConflictError, NotFoundError, ValidationFailed
from app.core.records import build_record
from app.core.stored import read_records
from app.features.models import Feature
from app.indices import service as indices_service
from app.indices.models import CompositeIndex
from app.indices.schemas import IndexRead
from app.indices.scoring import scoring_failed
from app.jurisdictions.models import Jurisdiction
from app.metrics.models import Metric
from app.scenarios.models import Scenario
from app.scenarios.overrides import FeatureType, check_overrides
from app.scenarios.records import ScenarioRecord
from app.scenarios.schemas import (
    ChangedComponent,
    ComponentState,
    PeerStanding,
    ScenarioEvaluation,
    ScenarioRead,
    ScenarioRequest,
    ScenarioResult,
    Standing,
    UnusedOverride,
)
from app.scenarios.writes import STORED_SCENARIOS, save_scenario
from app.scoring import engine
from app.scoring.engine import JurisdictionScore, ScoringError, effective_weights
from app.scoring.transforms import ComponentSpec, scorable


def _invalid(number: int, field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"overrides.{number}.{field}: {message}",
        errors=[{"loc": ["body", "overrides", number, field], "msg": message, "type": "override"}],
    )


async def _checked_overrides(session: AsyncSession, request: ScenarioRequest) -> dict[str, Any]:
    """The overrides as component key -> value, each validated as a write would be; a 422
    naming the first invalid one."""
    feature_keys = [o.feature for o in request.overrides if o.feature]
    metric_keys = [o.metric for o in request.overrides if o.metric]
    features = {
        f.key: FeatureType(f.value_type, f.allowed_values)
        for f in await session.scalars(select(Feature).where(Feature.key.in_(feature_keys)))
    }
    bilateral = {
        m.key: m.bilateral
        for m in await session.scalars(select(Metric).where(Metric.key.in_(metric_keys)))
    }
    checked, problems = check_overrides(request.overrides, features=features, bilateral=bilateral)
    if problems:
        first = problems[0]
        raise _invalid(first.number, first.field, first.message)
    return checked


@dataclass(frozen=True)
class CheckedRequest:
    """A scenario request that passed every rule that does not depend on the compared set."""

    index: IndexRead
    specs: list[ComponentSpec]
    overrides: dict[str, Any]
    used: dict[str, Any]


async def check_request(session: AsyncSession, request: ScenarioRequest) -> CheckedRequest:
    """The index (404 if unknown), the overrides validated like writes, then the values the
    index's transforms cannot take and the weights (a 422 naming the first problem)."""
    index, specs = await indices_service.index_specs(session, request.index)
    overrides = await _checked_overrides(session, request)
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
        effective_weights([spec.component for spec in specs], request.weights)
    except ScoringError as error:
        raise scoring_failed(error, ["body", "weights"]) from None
    return CheckedRequest(index=index, specs=specs, overrides=overrides, used=used)


@dataclass(frozen=True)
class Evaluation:
    """A scenario evaluated: the response, and every jurisdiction's standing before and after."""

    result: ScenarioResult
    names: dict[str, str]
    baseline: dict[str, JurisdictionScore]
    scenario: dict[str, JurisdictionScore]


def standing(score: JurisdictionScore) -> Standing:
    return Standing(score=score.score, rank=score.rank, coverage=score.coverage)


async def evaluate(
    session: AsyncSession, request: ScenarioRequest, *, as_of: date
) -> ScenarioResult:
    """Baseline and scenario standing of the request's jurisdiction on its index, on the
    data in force on `as_of` (the request's, resolved by the caller)."""
    return (await evaluate_fully(session, request, as_of=as_of)).result


async def evaluate_fully(
    session: AsyncSession, request: ScenarioRequest, *, as_of: date
) -> Evaluation:
    """evaluate(), with the standing of every jurisdiction of the compared set."""
    checked = await check_request(session, request)
    specs = checked.specs
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
    names, raw = await indices_service.raw_values(session, specs, codes=codes, as_of=as_of)
    if request.jurisdiction not in names:
        raise NotFoundError(f"No jurisdiction with code {request.jurisdiction!r}.")
    try:
        result = engine.evaluate_scenario(
            specs,
            raw,
            code=request.jurisdiction,
            overrides=checked.used,
            weights=request.weights,
            min_coverage=request.min_coverage,
        )
    except ScoringError as error:
        raise scoring_failed(error, ["body", "weights"]) from None
    component_keys = [spec.component.key for spec in specs]
    return Evaluation(
        result=ScenarioResult(
            index=checked.index.key,
            jurisdiction=request.jurisdiction,
            name=names[request.jurisdiction],
            as_of=as_of,
            compared=len(names),
            weights=result.baseline_ranking.weights,
            baseline=standing(result.baseline),
            scenario=standing(result.scenario),
            score_delta=result.score_delta,
            rank_delta=result.rank_delta,
            changed_components=[
                ChangedComponent(
                    key=before.key,
                    kind=before.kind,
                    weight=before.weight,
                    baseline=ComponentState(
                        raw=before.raw,
                        normalized=before.normalized,
                        contribution=before.contribution,
                    ),
                    scenario=ComponentState(
                        raw=after.raw,
                        normalized=after.normalized,
                        contribution=after.contribution,
                    ),
                )
                for before, after in result.changed_components
            ],
            unused_overrides=[key for key in checked.overrides if key not in component_keys],
        ),
        names=names,
        baseline={item.code: item for item in result.baseline_ranking.items},
        scenario={item.code: item for item in result.scenario_ranking.items},
    )


# Saved scenarios ----------------------------------------------------------------------------


class ScenarioNotFound(NotFoundError):
    def __init__(self, scenario_id: str) -> None:
        super().__init__(f"No scenario with id {scenario_id!r}.")


def _read(record: ScenarioRecord) -> ScenarioRead:
    return ScenarioRead.model_validate(record.model_dump())


async def get_scenario_record(session: AsyncSession, scenario_id: str) -> ScenarioRecord:
    """One saved scenario as a dataset record; ScenarioNotFound if unknown."""
    stored = await read_records(
        session, STORED_SCENARIOS, ScenarioRecord, {"scenarios": [scenario_id]}
    )
    if not stored:
        raise ScenarioNotFound(scenario_id)
    return stored[0]


async def get_scenario(session: AsyncSession, scenario_id: str) -> ScenarioRead:
    """One saved scenario; ScenarioNotFound if unknown."""
    return _read(await get_scenario_record(session, scenario_id))


async def list_scenarios(
    session: AsyncSession,
    *,
    jurisdiction: str | None,
    index: str | None,
    after: str | None,
    limit: int,
) -> list[ScenarioRead]:
    """Saved scenarios by id, filtered, after the cursor; `limit + 1` rows."""
    stmt = (
        select(Scenario.slug)
        .join(Jurisdiction, Jurisdiction.id == Scenario.jurisdiction_id)
        .join(CompositeIndex, CompositeIndex.id == Scenario.index_id)
        .order_by(Scenario.slug)
        .limit(limit + 1)
    )
    if jurisdiction is not None:
        stmt = stmt.where(Jurisdiction.code == jurisdiction)
    if index is not None:
        stmt = stmt.where(CompositeIndex.key == index)
    if after is not None:
        stmt = stmt.where(Scenario.slug > after)
    slugs = list(await session.scalars(stmt))
    if not slugs:
        return []
    stored = await read_records(session, STORED_SCENARIOS, ScenarioRecord, {"scenarios": slugs})
    return [_read(record) for record in stored]


async def check_scenario(session: AsyncSession, record: ScenarioRecord) -> None:
    """The scenario's index, overrides and weights checked exactly as POST
    /v1/scenarios/evaluate checks them (404 unknown index or jurisdiction, 422 otherwise)."""
    await check_request(session, _request(record, as_of=None))
    known = await session.scalar(
        select(Jurisdiction.id).where(Jurisdiction.code == record.jurisdiction)
    )
    if known is None:
        raise NotFoundError(f"No jurisdiction with code {record.jurisdiction!r}.")


async def delete_scenario(session: AsyncSession, record: ScenarioRecord, *, actor: str) -> None:
    """Delete a saved scenario and record the change."""
    await session.execute(delete(Scenario).where(Scenario.slug == record.id))
    await changes_service.record_change(
        session,
        actor=actor,
        entity="scenario",
        entity_key=record.id,
        action="delete",
        before=record.model_dump(mode="json"),
        after=None,
    )


async def create_scenario(
    session: AsyncSession, *, data: dict[str, Any], actor: str
) -> ScenarioRead:
    """Save a new scenario, checked as check_scenario checks it, with its change record; 409
    if its id is taken."""
    record = build_record(ScenarioRecord, data)
    try:
        await get_scenario(session, record.id)
    except ScenarioNotFound:
        pass
    else:
        raise ConflictError(f"A scenario with id {record.id!r} already exists.")
    await check_scenario(session, record)
    await save_scenario(session, record, actor=actor)
    return await get_scenario(session, record.id)


async def put_scenario(
    session: AsyncSession, *, scenario_id: str, data: dict[str, Any], actor: str
) -> ScenarioRead:
    """Create or replace a scenario, checked as check_scenario checks it, with its change
    record; 422 for sources that are not stored."""
    record = build_record(ScenarioRecord, {**data, "id": scenario_id})
    await check_scenario(session, record)
    await save_scenario(session, record, actor=actor)
    return await get_scenario(session, scenario_id)


def _request(record: ScenarioRecord, *, as_of: date | None) -> ScenarioRequest:
    return ScenarioRequest(
        index=record.index,
        jurisdiction=record.jurisdiction,
        overrides=record.overrides,
        weights=record.weights,
        as_of=as_of,
    )


async def evaluate_scenario(
    session: AsyncSession,
    scenario_id: str,
    *,
    as_of: date,
    peers: list[str],
) -> ScenarioEvaluation:
    """A saved scenario evaluated on the data in force on `as_of` over every jurisdiction,
    with `peers` side by side; 404 for an unknown scenario or peer, 409 when the stored
    scenario no longer fits the taxonomy or the index."""
    record = await get_scenario_record(session, scenario_id)
    try:
        evaluation = await evaluate_fully(session, _request(record, as_of=as_of), as_of=as_of)
    except ValidationFailed as error:
        raise ConflictError(
            f"Scenario {scenario_id!r} no longer fits the stored data ({error.detail}); "
            "replace it with PUT /v1/scenarios/{id}.",
            errors=error.errors,
        ) from None
    unknown = [code for code in peers if code not in evaluation.names]
    if unknown:
        raise NotFoundError(f"No jurisdiction with code {', '.join(repr(c) for c in unknown)}.")
    result = evaluation.result
    baseline = evaluation.baseline[record.jurisdiction]
    raw = {component.key: component.raw for component in baseline.components}
    kinds = {component.key: component.kind for component in baseline.components}
    unused = []
    for override in record.overrides:
        if override.key not in raw:
            reason = "not_in_index"
        elif engine.same_raw(raw[override.key], override.value) and kinds[override.key] == (
            override.kind
        ):
            reason = "already_in_force"
        else:
            continue
        unused.append(
            UnusedOverride(
                key=override.key, kind=override.kind, value=override.value, reason=reason
            )
        )
    return ScenarioEvaluation(
        id=record.id,
        name=record.name,
        index=result.index,
        jurisdiction=result.jurisdiction,
        jurisdiction_name=result.name,
        as_of=result.as_of,
        compared=result.compared,
        weights=result.weights,
        baseline=result.baseline,
        scenario=result.scenario,
        score_delta=result.score_delta,
        rank_delta=result.rank_delta,
        changed_components=result.changed_components,
        unused_overrides=unused,
        peers=[
            PeerStanding(
                code=code,
                name=evaluation.names[code],
                baseline=standing(evaluation.baseline[code]),
                scenario=standing(evaluation.scenario[code]),
            )
            for code in peers
            if code != record.jurisdiction
        ],
    )
