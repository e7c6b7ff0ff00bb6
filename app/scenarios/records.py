"""A saved scenario as a record: its rules on its own."""

from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from app.core.records import Name, Record, Text, sorted_unique
from app.core.schemas import JurisdictionCode, Key, Number, Slug
from app.scenarios.overrides import Override


class ScenarioRecord(Record):
    id: Slug
    name: Name
    index: Key
    jurisdiction: JurisdictionCode
    overrides: list[Override] = Field(default_factory=list, max_length=200)
    weights: dict[str, Number] = Field(
        default_factory=dict,
        description="Re-weighting as in getIndexScores (renormalised); empty = the index's.",
    )
    description: Text | None = Field(
        default=None, description="What the scenario changes, and what the index cannot see."
    )
    rationale: Text | None = Field(
        default=None, description="Why: what is asked for, and by whom, citing `source_ids`."
    )
    source_ids: Annotated[list[Slug], Field(max_length=50), AfterValidator(sorted_unique)] = Field(
        default_factory=list
    )

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == "evaluate":
            raise ValueError("'evaluate' is reserved (POST /v1/scenarios/evaluate)")
        return value
