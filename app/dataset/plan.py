"""Planning a write: what a dataset touches (its scope), what it creates and changes against
the stored rows, the feature-value histories it rewrites, and its issues numbered as in the
input. Pure functions: no SQL here."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.core.issues import Issue
from app.core.rows import plan_records
from app.dataset.schemas import ENTITY_FILES, Dataset
from app.features.records import fv_key
from app.jurisdictions.writes import keep_regulators
from app.metrics.records import obs_key

ENTITY_NAMES = {
    "sources": "source",
    "jurisdictions": "jurisdiction",
    "features": "feature",
    "metrics": "metric",
    "feature_values": "feature_value",
    "observations": "observation",
    "events": "event",
    "indices": "index",
    "scenarios": "scenario",
}


def entity_key(entity: str, record: Any) -> str:
    """The natural key of a record as shown in change records and reports."""
    if entity == "feature_values":
        return ":".join(str(p) for p in fv_key(record))
    if entity == "observations":
        return ":".join(str(p) for p in obs_key(record) if p is not None)
    for name in ("id", "code", "key"):
        if name in type(record).model_fields:
            return str(getattr(record, name))
    raise KeyError(entity)


@dataclass
class Scope:
    """The stored rows a write needs to see, by natural key: a write reads what it touches,
    never whole tables, so its cost does not grow with the database."""

    sources: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    features: set[str] = field(default_factory=set)
    metrics: set[str] = field(default_factory=set)
    value_pairs: set[tuple[str, str]] = field(default_factory=set)
    every_value_of: set[str] = field(default_factory=set)
    series: set[tuple[str, str]] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    # jurisdictions whose own feature values, observations, events and scenarios are needed
    everything_of: set[str] = field(default_factory=set)
    indices: set[str] = field(default_factory=set)
    scenarios: set[str] = field(default_factory=set)
    # indices whose components' definitions are needed (to check a scenario's overrides)
    components_of: set[str] = field(default_factory=set)

    def parameters(self) -> dict[str, Any]:
        pairs, series = sorted(self.value_pairs), sorted(self.series)
        return {
            "sources": sorted(self.sources),
            "codes": sorted(self.codes),
            "features": sorted(self.features),
            "metrics": sorted(self.metrics),
            "pair_codes": [code for code, _ in pairs],
            "pair_features": [key for _, key in pairs],
            "every_value_of": sorted(self.every_value_of),
            "series_codes": [code for code, _ in series],
            "series_metrics": [key for _, key in series],
            "events": sorted(self.events),
            "everything_of": sorted(self.everything_of),
            "indices": sorted(self.indices),
            "scenarios": sorted(self.scenarios),
            "components_of": sorted(self.components_of),
        }


def scope_of(dataset: Dataset) -> Scope:
    """Everything `dataset` refers to or would change."""
    scope = Scope()
    scope.sources = {s.id for s in dataset.sources}
    for records in (dataset.feature_values, dataset.observations, dataset.events):
        for record in records:
            scope.sources.update(record.source_ids)
    scope.codes = {j.code for j in dataset.jurisdictions}
    scope.codes |= {j.parent_code for j in dataset.jurisdictions if j.parent_code}
    scope.codes |= {v.jurisdiction_code for v in dataset.feature_values}
    scope.codes |= {o.jurisdiction_code for o in dataset.observations}
    scope.codes |= {o.counterpart_code for o in dataset.observations if o.counterpart_code}
    scope.codes |= {e.jurisdiction_code for e in dataset.events}
    components = [c for index in dataset.indices for c in index.components]
    scope.features = {f.key for f in dataset.features}
    scope.features |= {v.feature_key for v in dataset.feature_values}
    scope.features |= {c.key for c in components if c.kind == "feature"}
    scope.metrics = {m.key for m in dataset.metrics}
    scope.metrics |= {o.metric_key for o in dataset.observations}
    scope.metrics |= {c.key for c in components if c.kind == "metric"}
    scope.value_pairs = {(v.jurisdiction_code, v.feature_key) for v in dataset.feature_values}
    scope.every_value_of = {f.key for f in dataset.features}
    scope.series = {(o.jurisdiction_code, o.metric_key) for o in dataset.observations}
    scope.events = {e.id for e in dataset.events}
    scope.indices = {i.key for i in dataset.indices}
    for scenario in dataset.scenarios:
        scope.scenarios.add(scenario.id)
        scope.sources.update(scenario.source_ids)
        scope.codes.add(scenario.jurisdiction)
        scope.indices.add(scenario.index)
        scope.components_of.add(scenario.index)
        overridden = {override.key for override in scenario.overrides}
        scope.features |= overridden
        scope.metrics |= overridden
    return scope


# Per entity: (records to create, (stored, new) pairs to update, unchanged count).
Plan = dict[str, tuple[list[Any], list[Any], int]]

KeyFn = Callable[[Any], Any]
_KEYS: dict[str, KeyFn] = {
    "sources": lambda r: r.id,
    "jurisdictions": lambda r: r.code,
    "features": lambda r: r.key,
    "metrics": lambda r: r.key,
    "feature_values": fv_key,
    "observations": obs_key,
    "events": lambda r: r.id,
    "indices": lambda r: r.key,
    "scenarios": lambda r: r.id,
}


def plan_writes(dataset: Dataset, stored: Dataset) -> Plan:
    """Per entity: (records to create, (stored, new) pairs to update, unchanged count), as
    each domain's own writes plan them (app.core.rows.plan_records)."""
    plan: Plan = {}
    for entity, key in _KEYS.items():
        complete = keep_regulators if entity == "jurisdictions" else None
        planned = plan_records(
            getattr(dataset, entity), getattr(stored, entity), key, complete=complete
        )
        plan[entity] = (planned.create, planned.change, planned.unchanged)
    return plan


_FILE_ENTITY = {f"{entity}.json": entity for entity in ENTITY_FILES}


def renumbered(issues: list[Issue], positions: dict[str, list[int]] | None) -> list[Issue]:
    """Issues of a dataset that lost its invalid records, numbered as in the input."""
    if positions is None:
        return issues
    for issue in issues:
        numbers = positions.get(_FILE_ENTITY.get(issue.file, ""), [])
        if issue.record is not None and issue.record < len(numbers):
            issue.record = numbers[issue.record]
    return issues
