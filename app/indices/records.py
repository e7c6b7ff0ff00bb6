"""A composite index and its components as records: the rules of one record (the models)
and those across records (components that exist and can be scored, log_minmax domains), for
the API's writes and the dataset's batches."""

from collections.abc import Container, Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from app.core.issues import Issue, issue, unknown
from app.core.records import Name, Record, Text
from app.core.schemas import Key, Number
from app.features.records import FeatureRecord
from app.features.rules import NUMERIC_TYPES
from app.indices.models import ComponentKind, Transform


class ComponentRecord(Record):
    kind: ComponentKind
    key: Key
    weight: Number = Field(ge=0, le=1000)
    transform: Transform


class IndexRecord(Record):
    key: Key
    name: Name
    description: Text | None = None
    methodology: Annotated[Text | None, BeforeValidator(lambda v: v or None)] = None
    components: list[ComponentRecord] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _components(self) -> "IndexRecord":
        keys = [(c.kind, c.key) for c in self.components]
        if len(set(keys)) != len(keys):
            raise ValueError("a component is listed twice")
        if len({c.key for c in self.components}) != len(keys):
            raise ValueError("component keys must be unique within an index")
        if not any(c.weight > 0 for c in self.components):
            raise ValueError("at least one component needs a weight above 0")
        return self


def transform_problem(transform: str, value_type: str) -> str | None:
    """Why `transform` cannot score values of `value_type`, or None if it can."""
    if transform == "enum_score" and value_type != "enum":
        return f"enum_score needs an enum feature, not {value_type}"
    if transform == "boolean" and value_type != "boolean":
        return f"boolean needs a boolean feature, not {value_type}"
    if transform in ("minmax", "log_minmax", "rank") and value_type not in NUMERIC_TYPES:
        return f"{transform} needs a numeric feature or a metric, not {value_type}"
    return None


def negative_logged(indices: list[str], key: str) -> str:
    return f"must be >= 0: index {', '.join(indices)} scores {key!r} with log_minmax"


def log_scored_targets(
    indices: list[IndexRecord], stored: Mapping[tuple[str, str], list[str]]
) -> dict[tuple[str, str], list[str]]:
    """(kind, key) -> the indices that will score it with log_minmax once `indices` (new or
    redefined) are written, given those that do now (`stored`): its values must be >= 0."""
    redefined = {index.key for index in indices}
    scored = {target: [i for i in names if i not in redefined] for target, names in stored.items()}
    for index in indices:
        for component in index.components:
            if component.transform == "log_minmax":
                scored.setdefault((component.kind, component.key), []).append(index.key)
    return {target: names for target, names in scored.items() if names}


def negative_values(
    written: list[tuple[str, int, Any, tuple[str, str], str]],
    scored: Mapping[tuple[str, str], list[str]],
) -> list[Issue]:
    """Values that an index's log_minmax transform could not take (it needs >= 0) are refused
    when written: `written` holds (entity, record number, value, (kind, key) scored, shown
    key), `scored` what log_scored_targets gives."""
    return [
        issue(entity, number, shown, "value", negative_logged(scored[target], target[1]))
        for entity, number, value, target, shown in written
        if isinstance(value, int | float)
        and not isinstance(value, bool)
        and value < 0
        and target in scored
    ]


def check_indices(
    indices: list[IndexRecord],
    *,
    features: Mapping[str, FeatureRecord],
    metrics: Container[str],
    rejected: Container[str],
) -> list[Issue]:
    """Each component names a known feature or metric whose values its transform can score.
    A feature or metric in `rejected` failed its own rules in the same input."""
    issues: list[Issue] = []
    for number, index in enumerate(indices):
        for c_number, component in enumerate(index.components):
            where = f"components.{c_number}"
            if component.kind == "feature":
                feature = features.get(component.key)
                if feature is None and component.key in rejected:
                    continue
                if feature is None:
                    message = unknown("feature", component.key)
                    issues.append(issue("indices", number, index.key, where, message))
                    continue
                problem = transform_problem(component.transform, feature.value_type)
            else:
                if component.key not in metrics and component.key in rejected:
                    continue
                if component.key not in metrics:
                    message = unknown("metric", component.key)
                    issues.append(issue("indices", number, index.key, where, message))
                    continue
                problem = transform_problem(component.transform, "number")
            if problem:
                issues.append(issue("indices", number, index.key, f"{where}.transform", problem))
    return issues


def negative_stored_values(
    indices: list[IndexRecord], negative_stored: Container[tuple[str, str]]
) -> list[Issue]:
    """An index is refused (a conflict) when stored values of a log_minmax component are
    negative (`negative_stored`: their (kind, key)): a ranking never meets such a value."""
    issues = []
    for number, index in enumerate(indices):
        for c_number, component in enumerate(index.components):
            target = (component.kind, component.key)
            if component.transform == "log_minmax" and target in negative_stored:
                issues.append(
                    issue(
                        "indices",
                        number,
                        index.key,
                        f"components.{c_number}.transform",
                        f"log_minmax needs values >= 0, and {component.kind} "
                        f"{component.key!r} has negative stored values",
                        conflict=True,
                    )
                )
    return issues
