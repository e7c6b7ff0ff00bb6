"""What is known, per jurisdiction and category: filled, inherited, unknown, by confidence."""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.features.models import FeatureCategory


class CoverageCell(BaseModel):
    """One jurisdiction's knowledge of one category of features, on `as_of`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "DE",
                    "name": "Germany",
                    "category": "stablecoins",
                    "features": 7,
                    "filled": 0,
                    "inherited": 5,
                    "unknown": 2,
                    "verified": 3,
                    "reported": 2,
                    "estimated": 0,
                    "disputed": 0,
                    "unverified": 0,
                }
            ]
        }
    )

    code: str
    name: str
    category: FeatureCategory
    features: int = Field(description="Features in the category.")
    filled: int = Field(description="With a value of the jurisdiction's own in force.")
    inherited: int = Field(description="With an ancestor's value in force (e.g. EU -> DE).")
    unknown: int = Field(description="With no value in force: not known, not 'no such rule'.")
    verified: int = Field(description="Values in force (own or inherited) graded verified.")
    reported: int
    estimated: int
    disputed: int
    unverified: int = Field(description="Shown, never scored: no source traces them.")


class CoverageTotals(BaseModel):
    """The whole matrix: cells and how they are known."""

    cells: int = Field(description="Jurisdictions x features.")
    filled: int
    inherited: int
    unknown: int
    fill_ratio: float = Field(description="(filled + inherited) / cells, 0-1, 4 decimals.")


class Coverage(BaseModel):
    """The fill matrix of the feature data on `as_of`: one item per jurisdiction and
    category, ordered by code then category."""

    as_of: date
    totals: CoverageTotals
    items: list[CoverageCell]


COVERAGE_CSV = (
    "code",
    "name",
    "category",
    "features",
    "filled",
    "inherited",
    "unknown",
    "verified",
    "reported",
    "estimated",
    "disputed",
    "unverified",
)
