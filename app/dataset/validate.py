"""Rules that span records: references, uniqueness, value types, non-overlapping intervals.

A dataset is checked against what is already stored (`Known`), so a partial import may refer
to jurisdictions, features, metrics and sources that are in the database but not in the file.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.dataset.io import Issue
from app.dataset.schemas import Dataset
from app.features.records import FeatureRecord, FeatureValueRecord
from app.features.rules import NUMERIC_TYPES, check_value
from app.indices.records import IndexRecord
from app.metrics.records import MetricRecord
from app.scenarios.overrides import FeatureType, check_overrides
from app.scenarios.records import ScenarioRecord
from app.scoring.engine import Component, ScoringError, effective_weights

FILES = {
    "sources": "sources.json",
    "jurisdictions": "jurisdictions.json",
    "features": "features.json",
    "metrics": "metrics.json",
    "feature_values": "feature_values.json",
    "observations": "observations.json",
    "events": "events.json",
    "indices": "indices.json",
    "scenarios": "scenarios.json",
}


@dataclass
class Known:
    """What the database already holds, as far as references and intervals need it."""

    sources: set[str] = field(default_factory=set)
    jurisdictions: dict[str, str | None] = field(default_factory=dict)  # code -> parent code
    regulators: dict[str, str] = field(default_factory=dict)  # regulator id -> code
    features: dict[str, FeatureRecord] = field(default_factory=dict)
    metrics: dict[str, MetricRecord] = field(default_factory=dict)
    indices: dict[str, IndexRecord] = field(default_factory=dict)
    feature_values: list[FeatureValueRecord] = field(default_factory=list)
    # metric key -> (has observations without a counterpart, has some with one)
    observation_shapes: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    # (kind, key) -> indices that score it with log_minmax (which needs values >= 0)
    log_scored: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # (kind, key) of the input's log_minmax components that have negative stored values
    negative_stored: set[tuple[str, str]] = field(default_factory=set)
    # Identifiers of records of the same input that failed their own rules: they are
    # reported already, so references to them are not reported again.
    rejected: set[str] = field(default_factory=set)


def fv_key(record: FeatureValueRecord) -> tuple[str, str, date]:
    return (record.jurisdiction_code, record.feature_key, record.valid_from)


def obs_key(record: Any) -> tuple[str, str, str, str | None]:
    return (record.jurisdiction_code, record.metric_key, record.period, record.counterpart_code)


# The words of the cross-record rules, shared with the set-wise checks of bulk imports
# (app/dataset/bulk.py), which apply the same rules in SQL.


def duplicate(first: int) -> str:
    return f"duplicate of record {first}"


def unknown(kind: str, key: str) -> str:
    return f"unknown {kind} {key!r}"


def bilateral_mismatch(metric: str, *, bilateral: bool) -> str:
    if bilateral:
        return f"metric {metric!r} is bilateral: a counterpart jurisdiction is required"
    return f"metric {metric!r} is not bilateral: no counterpart"


SAME_COUNTERPART = "the counterpart must differ from the jurisdiction"


def overlap(valid_from: date, valid_to: date | None) -> str:
    return (
        f"overlaps the interval from {valid_from} to {valid_to or 'open'}; "
        "close it with valid_to first"
    )


def negative_logged(indices: list[str], key: str) -> str:
    return f"must be >= 0: index {', '.join(indices)} scores {key!r} with log_minmax"


def _duplicates(entity: str, keys: Iterable[Any]) -> list[Issue]:
    seen: dict[Any, int] = {}
    issues = []
    for number, key in enumerate(keys):
        if key in seen:
            issues.append(
                Issue(
                    file=FILES[entity],
                    record=number,
                    key=_show(key),
                    message=duplicate(seen[key]),
                )
            )
        else:
            seen[key] = number
    return issues


def _issue(
    entity: str,
    record: int | None,
    key: str | None,
    field: str | None,
    message: str,
    *,
    conflict: bool = False,
) -> Issue:
    return Issue(
        file=FILES[entity], record=record, key=key, field=field, message=message, conflict=conflict
    )


def _show(key: Any) -> str:
    if isinstance(key, tuple):
        return "/".join(str(part) for part in key if part is not None)
    return str(key)


def validate_dataset(dataset: Dataset, known: Known) -> list[Issue]:
    """Every cross-record problem of `dataset` given what is stored; empty when valid."""
    issues: list[Issue] = []
    issues += _duplicates("sources", (s.id for s in dataset.sources))
    issues += _duplicates("jurisdictions", (j.code for j in dataset.jurisdictions))
    issues += _duplicates("features", (f.key for f in dataset.features))
    issues += _duplicates("metrics", (m.key for m in dataset.metrics))
    issues += _duplicates("feature_values", (fv_key(v) for v in dataset.feature_values))
    issues += _duplicates("observations", (obs_key(o) for o in dataset.observations))
    issues += _duplicates("events", (e.id for e in dataset.events))
    issues += _duplicates("indices", (i.key for i in dataset.indices))
    issues += _duplicates("scenarios", (s.id for s in dataset.scenarios))

    sources = known.sources | {s.id for s in dataset.sources} | known.rejected
    parents = (
        dict(known.jurisdictions)
        | dict.fromkeys(known.rejected)
        | {j.code: j.parent_code for j in dataset.jurisdictions}
    )
    features = known.features | {f.key: f for f in dataset.features}
    metrics = known.metrics | {m.key: m for m in dataset.metrics}

    def missing_sources(entity: str, number: int, key: str, ids: list[str]) -> None:
        for source_id in ids:
            if source_id not in sources:
                issues.append(
                    Issue(
                        file=FILES[entity],
                        record=number,
                        key=key,
                        field="source_ids",
                        message=unknown("source", source_id),
                    )
                )

    def check_code(entity: str, number: int, key: str, name: str, code: str | None) -> None:
        if code is not None and code not in parents:
            issues.append(
                Issue(
                    file=FILES[entity],
                    record=number,
                    key=key,
                    field=name,
                    message=unknown("jurisdiction", code),
                )
            )

    regulator_owner = dict(known.regulators)
    for number, j in enumerate(dataset.jurisdictions):
        check_code("jurisdictions", number, j.code, "parent_code", j.parent_code)
        ancestor, hops = j.parent_code, 0
        while ancestor is not None and hops <= len(parents):
            if ancestor == j.code:
                issues.append(
                    _issue(
                        "jurisdictions", number, j.code, "parent_code", "parent chain forms a cycle"
                    )
                )
                break
            ancestor, hops = parents.get(ancestor), hops + 1
        for r_number, regulator in enumerate(j.regulators or []):
            owner = regulator_owner.get(regulator.id)
            if owner is not None and owner != j.code:
                issues.append(
                    _issue(
                        "jurisdictions",
                        number,
                        j.code,
                        f"regulators.{r_number}.id",
                        f"regulator {regulator.id!r} belongs to {owner}",
                        conflict=True,
                    )
                )
            regulator_owner[regulator.id] = j.code

    for number, v in enumerate(dataset.feature_values):
        key = _show(fv_key(v))
        check_code("feature_values", number, key, "jurisdiction_code", v.jurisdiction_code)
        missing_sources("feature_values", number, key, v.source_ids)
        feature = features.get(v.feature_key)
        if feature is None and v.feature_key in known.rejected:
            continue
        if feature is None:
            issues.append(
                _issue(
                    "feature_values",
                    number,
                    key,
                    "feature_key",
                    unknown("feature", v.feature_key),
                )
            )
            continue
        try:
            check_value(feature.value_type, feature_options(feature), v.value)
        except ValueError as error:
            issues.append(_issue("feature_values", number, key, "value", str(error)))

    for number, definition in enumerate(dataset.metrics):
        plain, paired = known.observation_shapes.get(definition.key, (False, False))
        if definition.bilateral and plain or not definition.bilateral and paired:
            kind = "without" if definition.bilateral else "with"
            issues.append(
                _issue(
                    "metrics",
                    number,
                    definition.key,
                    "bilateral",
                    f"observations {kind} a counterpart are stored for {definition.key!r}; "
                    "they would no longer fit",
                )
            )
    issues += _overlaps(dataset, known)
    issues += _stored_values_still_fit(dataset, known)

    for number, o in enumerate(dataset.observations):
        key = _show(obs_key(o))
        check_code("observations", number, key, "jurisdiction_code", o.jurisdiction_code)
        check_code("observations", number, key, "counterpart_code", o.counterpart_code)
        missing_sources("observations", number, key, o.source_ids)
        metric = metrics.get(o.metric_key)
        if metric is None and o.metric_key in known.rejected:
            pass
        elif metric is None:
            issues.append(
                _issue("observations", number, key, "metric_key", unknown("metric", o.metric_key))
            )
        elif metric.bilateral and o.counterpart_code is None:
            issues.append(
                _issue(
                    "observations",
                    number,
                    key,
                    "counterpart_code",
                    bilateral_mismatch(metric.key, bilateral=True),
                )
            )
        elif not metric.bilateral and o.counterpart_code is not None:
            issues.append(
                _issue(
                    "observations",
                    number,
                    key,
                    "counterpart_code",
                    bilateral_mismatch(metric.key, bilateral=False),
                )
            )
        if o.counterpart_code is not None and o.counterpart_code == o.jurisdiction_code:
            issues.append(
                _issue(
                    "observations",
                    number,
                    key,
                    "counterpart_code",
                    SAME_COUNTERPART,
                )
            )

    for number, e in enumerate(dataset.events):
        check_code("events", number, e.id, "jurisdiction_code", e.jurisdiction_code)
        missing_sources("events", number, e.id, e.source_ids)

    issues += _log_domain(dataset, known)

    for number, index in enumerate(dataset.indices):
        for c_number, component in enumerate(index.components):
            where = f"components.{c_number}"
            if component.kind == "feature":
                feature = features.get(component.key)
                if feature is None and component.key in known.rejected:
                    continue
                if feature is None:
                    issues.append(
                        _issue(
                            "indices",
                            number,
                            index.key,
                            where,
                            unknown("feature", component.key),
                        )
                    )
                    continue
                problem = transform_problem(component.transform, feature.value_type)
            else:
                if component.key not in metrics and component.key in known.rejected:
                    continue
                if component.key not in metrics:
                    issues.append(
                        _issue(
                            "indices", number, index.key, where, unknown("metric", component.key)
                        )
                    )
                    continue
                problem = transform_problem(component.transform, "number")
            if problem:
                issues.append(_issue("indices", number, index.key, f"{where}.transform", problem))

    indices = known.indices | {i.key: i for i in dataset.indices}
    for number, scenario in enumerate(dataset.scenarios):
        check_code("scenarios", number, scenario.id, "jurisdiction", scenario.jurisdiction)
        missing_sources("scenarios", number, scenario.id, scenario.source_ids)
        issues += _scenario_issues(number, scenario, indices, features, metrics, known.rejected)
    return issues


def _scenario_issues(
    number: int,
    scenario: ScenarioRecord,
    indices: dict[str, IndexRecord],
    features: dict[str, FeatureRecord],
    metrics: dict[str, MetricRecord],
    rejected: set[str],
) -> list[Issue]:
    """A saved scenario's index, overrides and weights, by the rules of
    POST /v1/scenarios/evaluate (app.scenarios.overrides)."""
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
            _issue(
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
                _issue(
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
                _issue(
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
        issues.append(_issue("scenarios", number, scenario.id, "weights", str(error)))
    return issues


def _log_domain(dataset: Dataset, known: Known) -> list[Issue]:
    """Values that an index's log_minmax transform could not take (it needs >= 0) are refused
    when written, and an index is refused when stored values of its log_minmax components
    are negative: a ranking never meets such a value at read time."""
    scored = log_scored_targets(dataset.indices, known)
    issues = []

    def negative(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool) and value < 0

    written: list[tuple[str, int, Any, tuple[str, str], str]] = [
        ("observations", n, o.value, ("metric", o.metric_key), _show(obs_key(o)))
        for n, o in enumerate(dataset.observations)
    ]
    written += [
        ("feature_values", n, v.value, ("feature", v.feature_key), _show(fv_key(v)))
        for n, v in enumerate(dataset.feature_values)
    ]
    for entity, number, value, target, shown in written:
        if negative(value) and target in scored:
            issues.append(
                _issue(entity, number, shown, "value", negative_logged(scored[target], target[1]))
            )
    for number, index in enumerate(dataset.indices):
        for c_number, component in enumerate(index.components):
            target = (component.kind, component.key)
            if component.transform == "log_minmax" and target in known.negative_stored:
                issues.append(
                    _issue(
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


def log_scored_targets(
    indices: list[IndexRecord], known: Known
) -> dict[tuple[str, str], list[str]]:
    """(kind, key) -> the indices that will score it with log_minmax once `indices` (new or
    redefined) are written: its values must be >= 0."""
    redefined = {index.key for index in indices}
    scored = {
        target: [i for i in names if i not in redefined]
        for target, names in known.log_scored.items()
    }
    for index in indices:
        for component in index.components:
            if component.transform == "log_minmax":
                scored.setdefault((component.kind, component.key), []).append(index.key)
    return {target: names for target, names in scored.items() if names}


def transform_problem(transform: str, value_type: str) -> str | None:
    """Why `transform` cannot score values of `value_type`, or None if it can."""
    if transform == "enum_score" and value_type != "enum":
        return f"enum_score needs an enum feature, not {value_type}"
    if transform == "boolean" and value_type != "boolean":
        return f"boolean needs a boolean feature, not {value_type}"
    if transform in ("minmax", "log_minmax", "rank") and value_type not in NUMERIC_TYPES:
        return f"{transform} needs a numeric feature or a metric, not {value_type}"
    return None


def feature_options(feature: FeatureRecord) -> list[dict[str, Any]] | None:
    if feature.allowed_values is None:
        return None
    return [option.model_dump() for option in feature.allowed_values]


def _overlaps(dataset: Dataset, known: Known) -> list[Issue]:
    """Intervals of one jurisdiction and feature must not overlap, stored ones included."""
    incoming = {fv_key(v): (n, v) for n, v in enumerate(dataset.feature_values)}
    by_pair: dict[tuple[str, str], list[tuple[int | None, FeatureValueRecord]]] = defaultdict(list)
    for stored in known.feature_values:
        if fv_key(stored) not in incoming:
            by_pair[(stored.jurisdiction_code, stored.feature_key)].append((None, stored))
    for position, record in incoming.values():
        by_pair[(record.jurisdiction_code, record.feature_key)].append((position, record))
    issues = []
    for intervals in by_pair.values():
        intervals.sort(key=lambda item: item[1].valid_from)
        for (first, before), (second, after) in zip(intervals, intervals[1:], strict=False):
            if before.valid_to is None or before.valid_to > after.valid_from:
                blame = second if second is not None else first
                issues.append(
                    _issue(
                        "feature_values",
                        blame,
                        _show(fv_key(after)),
                        "valid_from",
                        overlap(before.valid_from, before.valid_to),
                        conflict=True,
                    )
                )
    return issues


def _stored_values_still_fit(dataset: Dataset, known: Known) -> list[Issue]:
    """A redefined feature must still accept the values stored for it."""
    redefined = {
        f.key: f
        for f in dataset.features
        if f.key in known.features
        and (
            f.value_type != known.features[f.key].value_type
            or f.allowed_values != known.features[f.key].allowed_values
        )
    }
    replaced = {fv_key(v) for v in dataset.feature_values}
    issues = []
    for number, feature in enumerate(dataset.features):
        if feature.key not in redefined:
            continue
        for stored in known.feature_values:
            if stored.feature_key != feature.key or fv_key(stored) in replaced:
                continue
            try:
                check_value(feature.value_type, feature_options(feature), stored.value)
            except ValueError as error:
                issues.append(
                    _issue(
                        "features",
                        number,
                        feature.key,
                        "value_type",
                        f"the stored value of {stored.jurisdiction_code} from "
                        f"{stored.valid_from} no longer fits: {error}",
                    )
                )
    return issues
