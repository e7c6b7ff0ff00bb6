from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.records import body_model
from app.core.schemas import (
    IsoDate,
    JurisdictionCode,
    Key,
    Number,
    ScalarOrNull,
    Score,
    ScoreOrNull,
)
from app.http.lists import Page
from app.indices.models import ComponentKind
from app.scenarios.overrides import Override
from app.scenarios.records import ScenarioRecord
from app.scoring.engine import DEFAULT_MIN_COVERAGE


class ScenarioRequest(BaseModel):
    """What if one jurisdiction's values were different? Nothing is stored."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "index": "va_hub_competitiveness",
                    "jurisdiction": "HK",
                    "overrides": [
                        {"feature": "regulatory_sandbox", "value": True},
                        {"feature": "crypto_capital_gains_tax_individual_pct", "value": 0},
                    ],
                    "as_of": None,
                }
            ]
        },
    )

    index: Key
    jurisdiction: JurisdictionCode
    overrides: list[Override] = Field(default_factory=list, max_length=200)
    weights: dict[str, Number] = Field(
        default_factory=dict,
        description="Re-weighting as in getIndexScores (renormalised); empty = the index's.",
    )
    as_of: IsoDate | None = Field(default=None, description="Default: today.")
    jurisdictions: list[JurisdictionCode] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="The compared set (default: every jurisdiction); must include `jurisdiction`.",
    )
    min_coverage: Number = Field(
        default=DEFAULT_MIN_COVERAGE,
        ge=0,
        le=1,
        description="As in GET /v1/indices/{key}/scores: less coverage is listed unranked.",
    )


class Standing(BaseModel):
    score: ScoreOrNull
    rank: int | None
    coverage: Score


class ComponentState(BaseModel):
    raw: ScalarOrNull
    normalized: ScoreOrNull
    contribution: ScoreOrNull


class ChangedComponent(BaseModel):
    key: str
    kind: str
    weight: float
    baseline: ComponentState
    scenario: ComponentState


class ScenarioResult(BaseModel):
    """The jurisdiction's score and rank with and without the overrides."""

    index: str
    jurisdiction: str
    name: str
    as_of: date
    compared: int = Field(description="How many jurisdictions were ranked together.")
    weights: dict[str, float]
    baseline: Standing
    scenario: Standing
    score_delta: ScoreOrNull
    rank_delta: int | None = Field(
        description="Scenario rank minus baseline rank: negative means moving up."
    )
    changed_components: list[ChangedComponent]
    unused_overrides: list[str] = Field(
        description="Valid overrides of features or metrics that are not components of the "
        "index, so they cannot change its score."
    )


class ScenarioRead(BaseModel):
    """A saved what-if: overrides of one jurisdiction's values, evaluated on one index, with
    what it changes, why, and the sources of the why. Evaluate it with
    GET /v1/scenarios/{id}/evaluation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "hk-3d-token-classification",
                    "name": "Hong Kong adopts a '3D classification' matrix for tokens",
                    "index": "va_hub_competitiveness",
                    "jurisdiction": "HK",
                    "overrides": [
                        {
                            "feature": "token_classification_framework",
                            "metric": None,
                            "value": "statutory_taxonomy",
                        }
                    ],
                    "weights": {},
                    "description": "Token categories defined in legislation.",
                    "rationale": "The article asks for a '3D classification' matrix.",
                    "source_ids": ["hk-dotdotnews-column-2025"],
                }
            ]
        }
    )

    id: str
    name: str
    index: str
    jurisdiction: str
    overrides: list[Override]
    weights: dict[str, float] = Field(description="Re-weighting; empty = the index's weights.")
    description: str | None
    rationale: str | None
    source_ids: list[str]


class ScenarioList(Page[ScenarioRead]):
    """A page of saved scenarios, ordered by id."""


ScenarioCreate = body_model(
    ScenarioRecord,
    "ScenarioCreate",
    drop="",
    doc="A scenario to save. The overrides, weights and index are checked exactly as "
    "POST /v1/scenarios/evaluate checks them.",
)
ScenarioWrite = body_model(
    ScenarioRecord,
    "ScenarioWrite",
    drop="id",
    doc="A scenario to create or replace (the id is in the path).",
)


class UnusedOverride(BaseModel):
    """An override that cannot change the score."""

    key: str
    kind: ComponentKind
    value: ScalarOrNull
    reason: Literal["already_in_force", "not_in_index"] = Field(
        description="`already_in_force`: the jurisdiction already has that value on `as_of`; "
        "`not_in_index`: the index has no such component (the index cannot measure it)."
    )


class PeerStanding(BaseModel):
    """A peer on the same index, with and without the scenario (an override can move the
    bounds of a min-max component, and so the peers' scores)."""

    code: str
    name: str
    baseline: Standing
    scenario: Standing


class ScenarioEvaluation(BaseModel):
    """A saved scenario evaluated on the data in force on `as_of`, over every jurisdiction."""

    id: str = Field(description="The scenario's id.")
    name: str = Field(description="The scenario's name.")
    index: str
    jurisdiction: str
    jurisdiction_name: str
    as_of: date
    compared: int = Field(description="How many jurisdictions were ranked together.")
    weights: dict[str, float]
    baseline: Standing
    scenario: Standing
    score_delta: float | None
    rank_delta: int | None = Field(
        description="Scenario rank minus baseline rank: negative means moving up."
    )
    changed_components: list[ChangedComponent]
    unused_overrides: list[UnusedOverride]
    peers: list[PeerStanding] = Field(description="The peers asked for, in that order.")
