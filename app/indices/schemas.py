from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.core.records import body_model
from app.core.schemas import ScalarOrNull, Score, ScoreOrNull
from app.http.lists import Page
from app.indices.models import ComponentKind, Transform
from app.indices.records import IndexRecord


class ComponentRead(BaseModel):
    """One component of an index: what it scores, its weight and how raw values become 0-1."""

    kind: ComponentKind
    key: str
    name: str
    weight: float = Field(ge=0, examples=[0.15])
    transform: Transform
    higher_is_better: bool | None


class IndexRead(BaseModel):
    """A composite index definition."""

    key: str = Field(examples=["va_hub_competitiveness"])
    name: str
    description: str | None
    methodology: str | None = Field(description="How the score is computed (Markdown).")
    components: list[ComponentRead]


class IndexList(Page[IndexRead]):
    """A page of index definitions, ordered by key."""


class ComponentStats(BaseModel):
    """What the compared set looked like for a component: enough to redo min-max by hand."""

    count: int = Field(description="Jurisdictions with a value.")
    min: float | None = Field(description="Smallest raw value (after ln(1+x) for log_minmax).")
    max: float | None = Field(description="Largest raw value (after ln(1+x) for log_minmax).")


class ComponentUsed(ComponentRead):
    default_weight: float = Field(description="The index's own weight before re-weighting.")
    enum_scores: dict[str, float] = Field(
        default_factory=dict,
        description="The score of each enum value (enum_score components; empty otherwise).",
    )
    stats: ComponentStats


class ComponentScoreRead(BaseModel):
    """One component of one jurisdiction: raw value, 0-1 score and points contributed."""

    key: str
    kind: ComponentKind
    weight: float
    raw: ScalarOrNull = Field(
        description="The value in force (feature) or latest observation (metric)."
    )
    normalized: ScoreOrNull = Field(description="0-1 after the transform; null if no data.")
    contribution: ScoreOrNull = Field(
        description="100 * weight * normalized / coverage: the contributions add up to score."
    )


class ScoreItem(BaseModel):
    rank: int | None = Field(description="1 = best; equal scores share a rank. Null unscored.")
    code: str
    name: str
    score: ScoreOrNull = Field(description="0-100 over the components with data.")
    coverage: Score = Field(ge=0, le=1, description="Share of the weight that had data.")
    components: list[ComponentScoreRead]


class IndexScores(Page[ScoreItem]):
    """A ranking on an index, with the weights and transforms used to compute it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "index": "va_hub_competitiveness",
                    "as_of": "2026-11-25",
                    "weights": {"retail_trading_allowed": 0.5, "regulatory_sandbox": 0.5},
                    "components": [],
                    "items": [
                        {
                            "rank": 1,
                            "code": "SG",
                            "name": "Singapore",
                            "score": 100.0,
                            "coverage": 1.0,
                            "components": [],
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    index: str
    as_of: date
    weights: dict[str, float] = Field(description="The weights used, renormalised to sum 1.")
    components: list[ComponentUsed]


IndexWrite = body_model(
    IndexRecord,
    "IndexWrite",
    drop="key",
    doc="An index definition to create or replace (the key is in the path).",
)
