"""A saved scenario as a record: the rules of one record (the model) and those across
records (references, overrides, weights), for the API's writes and the dataset's batches."""

from collections.abc import Container, Mapping
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from app.core.issues import Issue, issue, unknown_code, unknown_sources
from app.core.records import Name, Record, Text, sorted_unique
from app.core.schemas import JurisdictionCode, Key, Number, Slug
from app.features.records import FeatureRecord, feature_options
from app.indices.records import IndexRecord
from app.metrics.records import MetricRecord
from app.scenarios.overrides import FeatureType, Override, check_overrides
from app.scoring.engine import Component, ScoringError, effective_weights


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


def check_scenarios(
    scenarios: list[ScenarioRecord],
    *,
    indices: Mapping[str, IndexRecord],
    features: Mapping[str, FeatureRecord],
    metrics: Mapping[str, MetricRecord],
    codes: Container[str],
    sources: Container[str],
    rejected: Container[str],
) -> list[Issue]:
    """References (jurisdiction, sources, index) and a saved scenario's overrides and weights,
    by the rules of POST /v1/scenarios/evaluate (app.scenarios.overrides)."""
    issues: list[Issue] = []
    for number, scenario in enumerate(scenarios):
        issues += unknown_code(
            "scenarios", number, scenario.id, "jurisdiction", scenario.jurisdiction, codes
        )
        issues += unknown_sources("scenarios", number, scenario.id, scenario.source_ids, sources)
        issues += _scenario_issues(number, scenario, indices, features, metrics, rejected)
    return issues


def _scenario_issues(
    number: int,
    scenario: ScenarioRecord,
    indices: Mapping[str, IndexRecord],
    features: Mapping[str, FeatureRecord],
    metrics: Mapping[str, MetricRecord],
    rejected: Container[str],
) -> list[Issue]:
    issues: list[Issue] = []
    _, problems = check_overrides(
        scenario.overrides,
        features={
            key: FeatureType(f.value_type, feature_options(f)) for key, f in features.items()
        },
        bilateral={key: m.bilateral for key, m in metrics.items()},
    )
    for problem in problems:
        override = scenario.overrides[problem.number]
        if problem.field in ("feature", "metric") and override.key in rejected:
            continue
        issues.append(
            issue(
                "scenarios",
                number,
                scenario.id,
                f"overrides.{problem.number}.{problem.field}",
                problem.message,
            )
        )
    index = indices.get(scenario.index)
    if index is None:
        if scenario.index not in rejected:
            issues.append(
                issue(
                    "scenarios", number, scenario.id, "index", f"unknown index {scenario.index!r}"
                )
            )
        return issues
    logged = {c.key for c in index.components if c.transform == "log_minmax"}
    for o_number, override in enumerate(scenario.overrides):
        value = override.value
        if (
            override.key in logged
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and value < 0
        ):
            issues.append(
                issue(
                    "scenarios",
                    number,
                    scenario.id,
                    f"overrides.{o_number}.value",
                    f"must be >= 0: index {index.key} scores {override.key!r} with log_minmax",
                )
            )
    try:
        effective_weights(
            [Component(c.kind.value, c.key, c.weight, c.transform.value) for c in index.components],
            scenario.weights,
        )
    except ScoringError as error:
        issues.append(issue("scenarios", number, scenario.id, "weights", str(error)))
    return issues
