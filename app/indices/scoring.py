"""Index scores as the API shows them: the scoring engine run on the database's values."""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.indices import service
from app.indices.schemas import (
    ComponentScoreRead,
    ComponentStats,
    ComponentUsed,
    IndexScores,
    ScoreItem,
)
from app.scoring.engine import IndexResult, JurisdictionScore, ScoringError, score_index


def scoring_failed(error: ScoringError, loc: list[str | int]) -> ValidationFailed:
    return ValidationFailed(str(error), errors=[{"loc": loc, "msg": str(error), "type": "scoring"}])


def item(score: JurisdictionScore, names: dict[str, str]) -> ScoreItem:
    return ScoreItem(
        rank=score.rank,
        code=score.code,
        name=names[score.code],
        score=score.score,
        coverage=score.coverage,
        components=[
            ComponentScoreRead(
                key=c.key,
                kind=c.kind,
                weight=c.weight,
                raw=c.raw,
                normalized=c.normalized,
                contribution=c.contribution,
            )
            for c in score.components
        ],
    )


async def score_response(
    session: AsyncSession,
    *,
    key: str,
    codes: list[str] | None,
    as_of: date,
    weights: dict[str, float] | None,
    min_coverage: float,
) -> IndexScores:
    """Every jurisdiction of the set ranked on index `key` (all items, unpaginated)."""
    index, specs = await service.index_specs(session, key)
    names, raw = await service.raw_values(session, specs, codes=codes, as_of=as_of)
    try:
        result: IndexResult = score_index(specs, raw, weights=weights, min_coverage=min_coverage)
    except ScoringError as error:
        raise scoring_failed(error, ["query", "weights"]) from None
    return IndexScores(
        index=index.key,
        as_of=as_of,
        weights=result.weights,
        components=[
            ComponentUsed(
                **component.model_dump(exclude={"weight"}),
                weight=result.weights[component.key],
                default_weight=component.weight,
                enum_scores=dict(spec.enum_scores or {}),
                stats=ComponentStats(**service.component_stats(spec, raw)),
            )
            for component, spec in zip(index.components, specs, strict=True)
        ],
        items=[item(score, names) for score in result.items],
        next_cursor=None,
    )
