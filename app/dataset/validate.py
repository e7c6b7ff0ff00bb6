"""A batch's rules across records, in dependency order: each domain's own (its `records.py`)
called with what the batch holds and what is stored, every issue reported at once.

A dataset is checked against what is already stored (`Known`), so a partial import may refer
to jurisdictions, features, metrics and sources that are in the database but not in the file.
"""

from dataclasses import dataclass, field

from app.core.issues import Issue, duplicates, show
from app.dataset.schemas import ENTITY_FILES, Dataset
from app.events.records import check_events
from app.features.records import (
    FeatureRecord,
    FeatureValueRecord,
    check_feature_values,
    fv_key,
    overlapping_intervals,
    stored_values_still_fit,
)
from app.indices.records import (
    IndexRecord,
    check_indices,
    log_scored_targets,
    negative_stored_values,
    negative_values,
)
from app.jurisdictions.records import check_jurisdictions
from app.metrics.records import MetricRecord, check_metric_shapes, check_observations, obs_key
from app.scenarios.records import check_scenarios

FILES = {entity: f"{entity}.json" for entity in ENTITY_FILES}


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


def validate_dataset(dataset: Dataset, known: Known) -> list[Issue]:
    """Every cross-record problem of `dataset` given what is stored; empty when valid."""
    issues: list[Issue] = []
    issues += duplicates("sources", (s.id for s in dataset.sources))
    issues += duplicates("jurisdictions", (j.code for j in dataset.jurisdictions))
    issues += duplicates("features", (f.key for f in dataset.features))
    issues += duplicates("metrics", (m.key for m in dataset.metrics))
    issues += duplicates("feature_values", (fv_key(v) for v in dataset.feature_values))
    issues += duplicates("observations", (obs_key(o) for o in dataset.observations))
    issues += duplicates("events", (e.id for e in dataset.events))
    issues += duplicates("indices", (i.key for i in dataset.indices))
    issues += duplicates("scenarios", (s.id for s in dataset.scenarios))

    sources = known.sources | {s.id for s in dataset.sources} | known.rejected
    parents = (
        dict(known.jurisdictions)
        | dict.fromkeys(known.rejected)
        | {j.code: j.parent_code for j in dataset.jurisdictions}
    )
    features = known.features | {f.key: f for f in dataset.features}
    metrics = known.metrics | {m.key: m for m in dataset.metrics}
    rejected = known.rejected

    issues += check_jurisdictions(
        dataset.jurisdictions, parents=parents, regulators=known.regulators
    )
    issues += check_feature_values(
        dataset.feature_values, features=features, codes=parents, sources=sources, rejected=rejected
    )
    issues += check_metric_shapes(dataset.metrics, known.observation_shapes)
    issues += overlapping_intervals(dataset.feature_values, known.feature_values)
    issues += stored_values_still_fit(
        dataset.features,
        stored_features=known.features,
        stored_values=known.feature_values,
        replaced=dataset.feature_values,
    )
    issues += check_observations(
        dataset.observations, metrics=metrics, codes=parents, sources=sources, rejected=rejected
    )
    issues += check_events(dataset.events, codes=parents, sources=sources)
    # Values an index's log_minmax transform could not take, then indices that would meet
    # such stored values.
    written = [
        ("observations", n, o.value, ("metric", o.metric_key), show(obs_key(o)))
        for n, o in enumerate(dataset.observations)
    ]
    written += [
        ("feature_values", n, v.value, ("feature", v.feature_key), show(fv_key(v)))
        for n, v in enumerate(dataset.feature_values)
    ]
    issues += negative_values(written, log_scored_targets(dataset.indices, known.log_scored))
    issues += negative_stored_values(dataset.indices, known.negative_stored)
    issues += check_indices(dataset.indices, features=features, metrics=metrics, rejected=rejected)
    issues += check_scenarios(
        dataset.scenarios,
        indices=known.indices | {i.key: i for i in dataset.indices},
        features=features,
        metrics=metrics,
        codes=parents,
        sources=sources,
        rejected=rejected,
    )
    return issues
