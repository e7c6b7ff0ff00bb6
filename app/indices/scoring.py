"""Index scores as the API shows them: the scoring engine run on the database's values."""

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ValidationFailed
from app.core.schemas import round_score
from app.indices import service
from app.indices.schemas import ComponentStats, ComponentUsed
from app.scoring.engine import IndexResult, JurisdictionScore, ScoringError, score_index


def scoring_failed(error: ScoringError, loc: list[str | int]) -> ValidationFailed:
    return ValidationFailed(str(error), errors=[{"loc": loc, "msg": str(error), "type": "scoring"}])


def item(score: JurisdictionScore, names: dict[str, str]) -> dict[str, Any]:
    """A ScoreItem as plain data (hundreds per response: serialised once, in Rust)."""
    return {
        "rank": score.rank,
        "code": score.code,
        "name": names[score.code],
        "score": round_score(score.score),
        "coverage": round_score(score.coverage),
        "components": [
            {
                "key": c.key,
                "kind": c.kind,
                "weight": c.weight,
                "raw": c.raw,
                "normalized": round_score(c.normalized),
                "contribution": round_score(c.contribution),
            }
            for c in score.components
        ],
    }


async def score_response(
    session: AsyncSession,
    *,
    key: str,
    codes: list[str] | None,
    as_of: date,
    weights: dict[str, float] | None,
    min_coverage: float,
) -> dict[str, Any]:
    """Every jurisdiction of the set ranked on index `key`, shaped as IndexScores (all items,
    unpaginated)."""
    index, specs = await service.index_specs(session, key)
    names, raw = await service.raw_values(session, specs, codes=codes, as_of=as_of)
    try:
        result: IndexResult = score_index(specs, raw, weights=weights, min_coverage=min_coverage)
    except ScoringError as error:
        raise scoring_failed(error, ["query", "weights"]) from None
    return {
        "index": index.key,
        "as_of": as_of.isoformat(),
        "weights": result.weights,
        "components": [
            ComponentUsed(
                **component.model_dump(exclude={"weight"}),
                weight=result.weights[component.key],
                default_weight=component.weight,
                enum_scores=dict(spec.enum_scores or {}),
                stats=ComponentStats(**service.component_stats(spec, raw)),
            ).model_dump(mode="json")
            for component, spec in zip(index.components, specs, strict=True)
        ],
        "items": [item(score, names) for score in result.items],
        "next_cursor": None,
    }
