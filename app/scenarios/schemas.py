from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas_common import (
    IsoDate,
    JurisdictionCode,
    Key,
    Number,
    ScalarOrNull,
    Score,
    ScoreOrNull,
)


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
    min_coverage: Number = Field(default=0.5, ge=0, le=1)


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
