"""Load datasets into the database and read them back: seed, import and export.

One code path for `juriscope seed`, `juriscope import`, `POST /v1/imports` and the embedded
start. An import upserts by natural key (codes, keys, ids; a feature value by jurisdiction,
feature and valid_from; an observation by jurisdiction, metric, period and counterpart), never
deletes, writes one change record per created or updated entity, and is all-or-nothing.
"""

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from app.changes import service as changes_service
from app.changes.models import Change
from app.core.db import async_url, lock_writers
from app.dataset.io import DatasetInvalid, Issue, read_path
from app.dataset.schemas import (
    ENTITY_FILES,
    Dataset,
    EventRecord,
    FeatureRecord,
    FeatureValueRecord,
    IndexRecord,
    JurisdictionRecord,
    MetricRecord,
    ObservationRecord,
    ScenarioRecord,
    SourceRecord,
)
from app.dataset.validate import Known, fv_key, obs_key, validate_dataset
from app.events.models import Event, EventSource
from app.features.models import Feature, FeatureValue, FeatureValueSource
from app.indices.models import CompositeIndex, IndexComponent
from app.jurisdictions.models import Jurisdiction, Regulator
from app.metrics.models import Metric, Observation, ObservationSource
from app.scenarios.models import Scenario, ScenarioSource
from app.sources.models import Source

BUNDLED = Path(__file__).parent / "data"

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


class EntityCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportReport(BaseModel):
    """What an import did (or, with dry_run, would do), per entity type; or why it could not."""

    dry_run: bool
    valid: bool
    counts: dict[str, EntityCounts] = Field(default_factory=dict)
    issues: list[Issue] = Field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(c.created + c.updated for c in self.counts.values())


def bundled_dataset() -> Dataset:
    """The curated dataset shipped in the package; DatasetInvalid if a file is broken."""
    dataset, issues = read_path(BUNDLED)
    if issues:
        raise DatasetInvalid(issues)
    return dataset


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


# Reading the database back as records ----------------------------------------------------

# Per entity: the query, its scope filters (by the scope parameter that enables each; a row
# matching any of them is read), and its order.
SQL: dict[str, tuple[str, dict[str, str], str]] = {
    "sources": (
        """SELECT slug AS id, publisher, title, url, published_on, accessed_on, kind, note
             FROM source""",
        {"sources": "slug = ANY(CAST(:sources AS text[]))"},
        "ORDER BY slug",
    ),
    "jurisdictions": (
        """SELECT j.code, j.name, j.kind, p.code AS parent_code, j.region, j.currency, j.summary,
               coalesce((SELECT json_agg(json_build_object('id', r.slug, 'name', r.name,
                          'acronym', r.acronym, 'url', r.url, 'remit', r.remit) ORDER BY r.slug)
                           FROM regulator r WHERE r.jurisdiction_id = j.id), '[]') AS regulators
          FROM jurisdiction j LEFT JOIN jurisdiction p ON p.id = j.parent_id""",
        {"codes": "j.code = ANY(CAST(:codes AS text[]))"},
        "ORDER BY j.code",
    ),
    "features": (
        """SELECT key, name, category, value_type, unit, allowed_values, higher_is_better,
               description, inherits, reaches_special_zones FROM feature""",
        {"features": "key = ANY(CAST(:features AS text[]))"},
        "ORDER BY key",
    ),
    "metrics": (
        """SELECT key, name, unit, description, higher_is_better, frequency, bilateral
             FROM metric""",
        {"metrics": "key = ANY(CAST(:metrics AS text[]))"},
        "ORDER BY key",
    ),
    "feature_values": (
        """SELECT j.code AS jurisdiction_code, f.key AS feature_key, v.value, v.valid_from,
               v.valid_to, v.note, v.confidence, v.checked_on,
               (SELECT array_agg(s.slug ORDER BY s.slug) FROM feature_value_source l
                  JOIN source s ON s.id = l.source_id WHERE l.feature_value_id = v.id) AS source_ids
          FROM feature_value v JOIN jurisdiction j ON j.id = v.jurisdiction_id
          JOIN feature f ON f.id = v.feature_id""",
        {
            # Narrowed by each column first, so the (jurisdiction, feature) index applies.
            "pair_codes": """j.code = ANY(CAST(:pair_codes AS text[]))
                AND f.key = ANY(CAST(:pair_features AS text[]))
                AND (j.code, f.key) IN (SELECT * FROM unnest(CAST(:pair_codes AS text[]),
                                                            CAST(:pair_features AS text[])))""",
            "every_value_of": "f.key = ANY(CAST(:every_value_of AS text[]))",
            "everything_of": "j.code = ANY(CAST(:everything_of AS text[]))",
        },
        "ORDER BY j.code, f.key, v.valid_from",
    ),
    "observations": (
        """SELECT j.code AS jurisdiction_code, m.key AS metric_key, o.period, o.value,
               c.code AS counterpart_code, o.bound, o.confidence, o.checked_on, o.note,
               (SELECT array_agg(s.slug ORDER BY s.slug) FROM observation_source l
                  JOIN source s ON s.id = l.source_id WHERE l.observation_id = o.id) AS source_ids
          FROM observation o JOIN jurisdiction j ON j.id = o.jurisdiction_id
          JOIN metric m ON m.id = o.metric_id
          LEFT JOIN jurisdiction c ON c.id = o.counterpart_id""",
        {
            "series_codes": """j.code = ANY(CAST(:series_codes AS text[]))
                AND m.key = ANY(CAST(:series_metrics AS text[]))
                AND (j.code, m.key) IN (SELECT * FROM unnest(CAST(:series_codes AS text[]),
                                                            CAST(:series_metrics AS text[])))""",
            "everything_of": "j.code = ANY(CAST(:everything_of AS text[]))",
        },
        "ORDER BY j.code, m.key, o.period_start, o.period, c.code NULLS FIRST",
    ),
    "events": (
        """SELECT e.slug AS id, j.code AS jurisdiction_code, e.event_date AS date, e.kind, e.title,
               e.summary,
               (SELECT array_agg(s.slug ORDER BY s.slug) FROM event_source l
                  JOIN source s ON s.id = l.source_id WHERE l.event_id = e.id) AS source_ids
          FROM event e JOIN jurisdiction j ON j.id = e.jurisdiction_id""",
        {
            "events": "e.slug = ANY(CAST(:events AS text[]))",
            "everything_of": "j.code = ANY(CAST(:everything_of AS text[]))",
        },
        "ORDER BY e.event_date, e.slug",
    ),
    "indices": (
        """SELECT i.key, i.name, i.description, i.methodology,
               (SELECT json_agg(json_build_object('kind', c.kind,
                         'key', coalesce(f.key, m.key), 'weight', c.weight,
                         'transform', c.transform) ORDER BY c.position)
                  FROM index_component c LEFT JOIN feature f ON f.id = c.feature_id
                  LEFT JOIN metric m ON m.id = c.metric_id WHERE c.index_id = i.id) AS components
          FROM composite_index i""",
        {"indices": "i.key = ANY(CAST(:indices AS text[]))"},
        "ORDER BY i.key",
    ),
    "scenarios": (
        """SELECT s.slug AS id, s.name, i.key AS index, j.code AS jurisdiction, s.overrides,
               s.weights, s.description, s.rationale,
               coalesce((SELECT array_agg(src.slug ORDER BY src.slug) FROM scenario_source l
                  JOIN source src ON src.id = l.source_id WHERE l.scenario_id = s.id),
                  '{}') AS source_ids
          FROM scenario s JOIN composite_index i ON i.id = s.index_id
          JOIN jurisdiction j ON j.id = s.jurisdiction_id""",
        {
            "scenarios": "s.slug = ANY(CAST(:scenarios AS text[]))",
            "everything_of": "j.code = ANY(CAST(:everything_of AS text[]))",
        },
        "ORDER BY s.slug",
    ),
}


# Row ids by table and natural key ("jurisdiction" -> {"HK": 7}), known before a write.
Ids = dict[str, dict[Any, int]]


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


async def read_database(
    session: AsyncSession,
    entities: Sequence[str] = tuple(ENTITY_FILES),
    *,
    scope: Scope | None = None,
) -> Dataset:
    """The stored data as a dataset (what `export` writes), for the entity types asked for;
    with `scope`, only the rows it names."""
    parts: dict[str, list[Any]] = {}
    parameters = scope.parameters() if scope is not None else {}
    for entity in entities:
        select_from, filters, order = SQL[entity]
        sql = f"{select_from} {order}"
        if scope is not None:
            # Only the filters the scope gives values for: an empty scope reads nothing, and
            # no empty alternative keeps the planner from the indexes.
            where = [condition for name, condition in filters.items() if parameters[name]]
            if not where:
                parts[entity] = []
                continue
            sql = f"{select_from} WHERE {' OR '.join(f'({c})' for c in where)} {order}"
        rows = (await session.execute(text(sql), parameters)).mappings().all()
        model = ENTITY_FILES[entity]
        parts[entity] = [model.model_validate(dict(row)) for row in rows]
    return Dataset(**parts)


_NEGATIVE_STORED = text(
    "SELECT DISTINCT 'metric', m.key FROM observation o JOIN metric m ON m.id = o.metric_id"
    " WHERE m.key = ANY(CAST(:metrics AS text[])) AND o.value < 0"
    " UNION SELECT DISTINCT 'feature', f.key FROM feature_value v"
    " JOIN feature f ON f.id = v.feature_id WHERE f.key = ANY(CAST(:features AS text[]))"
    " AND jsonb_typeof(v.value) = 'number' AND (v.value)::numeric < 0"
)


_REFERENCES = text(
    """
    WITH RECURSIVE chain(id) AS (
        SELECT id FROM jurisdiction WHERE code = ANY(CAST(:codes AS text[]))
        UNION
        SELECT j.parent_id FROM jurisdiction j JOIN chain c ON j.id = c.id
         WHERE j.parent_id IS NOT NULL
    )
    SELECT 'jurisdiction' AS kind, j.code AS key, p.code AS extra, j.id
      FROM chain JOIN jurisdiction j ON j.id = chain.id
      LEFT JOIN jurisdiction p ON p.id = j.parent_id
    UNION ALL
    SELECT 'source', slug, NULL, id FROM source WHERE slug = ANY(CAST(:sources AS text[]))
    UNION ALL
    SELECT 'feature', key, json_build_object('key', key, 'name', name, 'category', category,
             'value_type', value_type, 'unit', unit, 'allowed_values', allowed_values,
             'higher_is_better', higher_is_better, 'description', description,
             'inherits', inherits, 'reaches_special_zones', reaches_special_zones)::text, id
      FROM feature WHERE key = ANY(CAST(:features AS text[])) OR id IN (
           SELECT c.feature_id FROM index_component c JOIN composite_index ci ON ci.id = c.index_id
            WHERE ci.key = ANY(CAST(:components_of AS text[])))
    UNION ALL
    SELECT 'metric', key, json_build_object('key', key, 'name', name, 'unit', unit,
             'description', description, 'higher_is_better', higher_is_better,
             'frequency', frequency, 'bilateral', bilateral)::text, id
      FROM metric WHERE key = ANY(CAST(:metrics AS text[])) OR id IN (
           SELECT c.metric_id FROM index_component c JOIN composite_index ci ON ci.id = c.index_id
            WHERE ci.key = ANY(CAST(:components_of AS text[])))
    UNION ALL
    SELECT 'index', key, NULL, id FROM composite_index
     WHERE key = ANY(CAST(:indices AS text[]))
    UNION ALL
    SELECT 'regulator', r.slug, j.code, r.id FROM regulator r
      JOIN jurisdiction j ON j.id = r.jurisdiction_id
     WHERE r.slug = ANY(CAST(:regulators AS text[]))
    UNION ALL
    SELECT 'log_minmax', ci.key, c.kind || ':' || coalesce(f.key, m.key), NULL
      FROM index_component c JOIN composite_index ci ON ci.id = c.index_id
      LEFT JOIN feature f ON f.id = c.feature_id LEFT JOIN metric m ON m.id = c.metric_id
     WHERE c.transform = 'log_minmax'
    """
)


async def known_rows(session: AsyncSession, dataset: Dataset) -> tuple[Known, Dataset, Ids]:
    """What the checks of `dataset` need from the database, and the row ids of what it
    names: only the rows it touches (its scope), in a few statements."""
    scope = scope_of(dataset)
    # Definitions (features, metrics) come with the references below, in the same statement.
    needed = {e for e in ENTITY_FILES if getattr(dataset, e)} - {"features", "metrics"}
    if dataset.features:
        needed.add("feature_values")
    if dataset.scenarios:
        needed.add("indices")
    stored = await read_database(session, [e for e in ENTITY_FILES if e in needed], scope=scope)
    parameters = scope.parameters()
    parameters["regulators"] = sorted(
        {r.id for j in dataset.jurisdictions for r in j.regulators or []}
    )
    ids: Ids = {kind: {} for kind in ("jurisdiction", "source", "feature", "metric", "index")}
    sources: set[str] = set()
    jurisdictions: dict[str, str | None] = {}
    regulators: dict[str, str] = {}
    log_scored: dict[tuple[str, str], list[str]] = {}
    definitions: dict[str, list[Any]] = {"feature": [], "metric": []}
    for kind, key, extra, row_id in (await session.execute(_REFERENCES, parameters)).all():
        if kind == "log_minmax":
            component_kind, _, component_key = extra.partition(":")
            log_scored.setdefault((component_kind, component_key), []).append(key)
            continue
        if kind == "regulator":
            regulators[key] = extra
            continue
        ids[kind][key] = row_id
        if kind in definitions:
            model = FeatureRecord if kind == "feature" else MetricRecord
            definitions[kind].append(model.model_validate_json(extra))
        elif kind == "source":
            sources.add(key)
        elif kind == "jurisdiction":
            jurisdictions[key] = extra
    shapes: dict[str, tuple[bool, bool]] = {}
    if dataset.metrics:
        rows = await session.execute(
            text(
                "SELECT m.key, bool_or(o.counterpart_id IS NULL),"
                " bool_or(o.counterpart_id IS NOT NULL) FROM observation o"
                " JOIN metric m ON m.id = o.metric_id"
                " WHERE m.key = ANY(CAST(:keys AS text[])) GROUP BY m.key"
            ),
            {"keys": [m.key for m in dataset.metrics]},
        )
        shapes = {key: (bool(plain), bool(paired)) for key, plain, paired in rows.all()}
    negative_stored: set[tuple[str, str]] = set()
    logged = [c for i in dataset.indices for c in i.components if c.transform == "log_minmax"]
    if logged:
        rows = await session.execute(
            _NEGATIVE_STORED,
            {
                "metrics": [c.key for c in logged if c.kind == "metric"],
                "features": [c.key for c in logged if c.kind == "feature"],
            },
        )
        negative_stored = {(kind, key) for kind, key in rows.all()}
    stored = stored.model_copy(
        update={
            "features": sorted(definitions["feature"], key=lambda f: f.key),
            "metrics": sorted(definitions["metric"], key=lambda m: m.key),
        }
    )
    known = Known(
        log_scored=log_scored,
        negative_stored=negative_stored,
        sources=sources,
        jurisdictions=jurisdictions,
        regulators=regulators,
        features={f.key: f for f in stored.features},
        metrics={m.key: m for m in stored.metrics},
        indices={i.key: i for i in stored.indices},
        feature_values=stored.feature_values,
        observation_shapes=shapes,
    )
    return known, stored, ids


# Applying a dataset ------------------------------------------------------------------------

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


def _plan(dataset: Dataset, stored: Dataset) -> dict[str, tuple[list[Any], list[Any], int]]:
    """Per entity: (records to create, (stored, new) pairs to update, unchanged count)."""
    plan = {}
    for entity, key in _KEYS.items():
        existing = {key(r): r for r in getattr(stored, entity)}
        create, change, same = [], [], 0
        for record in getattr(dataset, entity):
            before = existing.get(key(record))
            if entity == "jurisdictions" and record.regulators is None:
                record = record.model_copy(
                    update={"regulators": before.regulators if before else []}
                )
            if before is None:
                create.append(record)
            elif before.model_dump(mode="json") != record.model_dump(mode="json"):
                change.append((before, record))
            else:
                same += 1
        plan[entity] = (create, change, same)
    return plan


Stage = Callable[[str, int], None]

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


async def apply_dataset(
    session: AsyncSession,
    dataset: Dataset,
    *,
    actor: str,
    dry_run: bool = False,
    on_stage: Stage | None = None,
    prior_issues: Sequence[Issue] = (),
    positions: dict[str, list[int]] | None = None,
) -> ImportReport:
    """Validate `dataset` against the stored data and upsert it (unless dry_run).

    Raises DatasetInvalid with every issue when anything is invalid; writes nothing then.
    Flushes, never commits: the caller owns the transaction.
    """
    if not dry_run:
        # First, before any row is read: writers queue here in one order, so a definition and
        # a value written at once are checked one after the other, and nobody deadlocks.
        await lock_writers(session)
    known, stored, ids = await known_rows(session, dataset)
    known.rejected = {issue.key for issue in prior_issues if issue.key}
    issues = [*prior_issues, *renumbered(validate_dataset(dataset, known), positions)]
    if issues:
        raise DatasetInvalid(issues)
    return await write_checked(
        session, dataset, stored, ids, actor=actor, dry_run=dry_run, on_stage=on_stage
    )


async def write_checked(
    session: AsyncSession,
    dataset: Dataset,
    stored: Dataset,
    ids: Ids,
    *,
    actor: str,
    dry_run: bool,
    on_stage: Stage | None,
) -> ImportReport:
    """Upsert a dataset that passed its checks against `stored` (what `known_rows` read), with
    its change records; only the counts with dry_run."""
    plan = _plan(dataset, stored)
    report = ImportReport(
        dry_run=dry_run,
        valid=True,
        counts={
            e: EntityCounts(created=len(c), updated=len(u), unchanged=s)
            for e, (c, u, s) in plan.items()
            if c or u or s
        },
    )
    if dry_run or report.changed == 0:
        return report
    writer = _Writer(session, ids)
    for entity, (create, change, _) in plan.items():
        if on_stage is not None:
            on_stage(entity, len(create) + len(change))
        await getattr(writer, entity)(create, change)
    changes = [
        {
            "actor": actor,
            "entity": ENTITY_NAMES[entity],
            "entity_key": entity_key(entity, new),
            "action": "create" if before is None else "update",
            "before": None if before is None else before.model_dump(mode="json"),
            "after": new.model_dump(mode="json"),
        }
        for entity, (create, change, _) in plan.items()
        if entity != "feature_values"
        for before, new in [*change, *[(None, r) for r in create]]
    ]
    changes += _history_changes(actor, stored, *plan["feature_values"][:2])
    for chunk in range(0, len(changes), 1000):
        await session.execute(insert(Change), changes[chunk : chunk + 1000])
    await session.flush()
    return report


def _found(row_id: int | None) -> int:
    # The plan said the row exists, and the transaction holds it: a miss is a bug.
    assert row_id is not None, "a row planned for update was not found"
    return row_id


def _history_changes(
    actor: str, stored: Dataset, create: list[FeatureValueRecord], change: list[Any]
) -> list[dict[str, Any]]:
    """One change record per (jurisdiction, feature) whose history changed, with the whole
    history before and after: closing one interval and opening the next is one change, and
    a mirror replays it by replacing that pair's history."""
    touched = {(r.jurisdiction_code, r.feature_key) for r in create}
    touched |= {(r.jurisdiction_code, r.feature_key) for _, r in change}
    updated = {fv_key(r): r for _, r in change}
    records = []
    for code, key in sorted(touched):
        before = [
            v for v in stored.feature_values if (v.jurisdiction_code, v.feature_key) == (code, key)
        ]
        after = [updated.get(fv_key(v), v) for v in before]
        after += [r for r in create if (r.jurisdiction_code, r.feature_key) == (code, key)]
        after.sort(key=lambda v: v.valid_from)
        records.append(
            {
                "actor": actor,
                "entity": "feature_value",
                "entity_key": f"{code}:{key}",
                "action": "create" if not before else "update",
                "before": [v.model_dump(mode="json") for v in before] or None,
                "after": [v.model_dump(mode="json") for v in after],
            }
        )
    return records


_UPDATE_OBSERVATIONS = text(
    """
    UPDATE observation o
       SET value = v.value, period_start = v.period_start, period_end = v.period_end,
           bound = v.bound, confidence = v.confidence, checked_on = v.checked_on,
           note = v.note
      FROM unnest(CAST(:jurisdiction_id AS int[]), CAST(:metric_id AS int[]),
                  CAST(:period AS text[]), CAST(:counterpart_id AS int[]),
                  CAST(:value AS float8[]), CAST(:period_start AS date[]),
                  CAST(:period_end AS date[]), CAST(:bound AS text[]),
                  CAST(:confidence AS text[]), CAST(:checked_on AS date[]),
                  CAST(:note AS text[]))
           AS v(jurisdiction_id, metric_id, period, counterpart_id, value, period_start,
                period_end, bound, confidence, checked_on, note)
     WHERE o.jurisdiction_id = v.jurisdiction_id AND o.metric_id = v.metric_id
       AND o.period = v.period AND o.counterpart_id IS NOT DISTINCT FROM v.counterpart_id
    RETURNING o.id, o.jurisdiction_id, o.metric_id, o.period, o.counterpart_id
    """
)


class _Writer:
    """Bulk inserts and updates in dependency order, resolving natural keys to row ids."""

    def __init__(self, session: AsyncSession, ids: Ids) -> None:
        self.session = session
        # The ids of every row the dataset names, read with its checks; rows created here are
        # added as they are inserted. No table is read whole.
        self.ids = ids

    async def _insert(self, model: Any, rows: list[dict[str, Any]], *returning: Any) -> list[Any]:
        if not rows:
            return []
        result = await self.session.execute(insert(model).returning(*returning), rows)
        return list(result.all())

    async def _insert_named(
        self, kind: str, model: Any, key: Any, rows: list[dict[str, Any]]
    ) -> None:
        """Insert rows of a table with a natural key and remember their ids."""
        for name, row_id in await self._insert(model, rows, key, model.id):
            self.ids[kind][name] = row_id

    async def _update(self, model: Any, key_column: Any, key: Any, values: dict[str, Any]) -> None:
        await self.session.execute(update(model).where(key_column == key).values(**values))

    async def _links(
        self,
        link: Any,
        owner_column: str,
        pairs: list[tuple[int, list[str]]],
        *,
        replaced: int | None = None,
    ) -> None:
        """Link owners to their sources; the first `replaced` owners (stored rows, not new
        ones) lose their old links first. Default: all of them."""
        if not pairs:
            return
        source_ids = self.ids["source"]
        owners = [owner for owner, _ in pairs][:replaced]
        if owners:
            await self.session.execute(delete(link).where(getattr(link, owner_column).in_(owners)))
        rows = [
            {owner_column: owner, "source_id": source_ids[slug]}
            for owner, slugs in pairs
            for slug in dict.fromkeys(slugs)
        ]
        for chunk in range(0, len(rows), 5000):
            await self.session.execute(insert(link), rows[chunk : chunk + 5000])

    async def sources(self, create: list[SourceRecord], change: list[Any]) -> None:
        def row(r: SourceRecord) -> dict[str, Any]:
            return {"slug": r.id, **r.model_dump(exclude={"id"})}

        await self._insert_named("source", Source, Source.slug, [row(r) for r in create])
        for _, r in change:
            values = row(r) | {"updated_at": func.now()}
            await self._update(Source, Source.slug, r.id, values)

    async def jurisdictions(self, create: list[JurisdictionRecord], change: list[Any]) -> None:
        ids = self.ids["jurisdiction"]

        def row(r: JurisdictionRecord) -> dict[str, Any]:
            return r.model_dump(exclude={"regulators", "parent_code"})

        await self._insert_named(
            "jurisdiction", Jurisdiction, Jurisdiction.code, [row(r) for r in create]
        )
        # Parents: with the row when the parent's id is known already, else once every new
        # jurisdiction of the dataset has its id (a parent may come later in the same file).
        later = [r for r in create if r.parent_code]
        for _, r in change:
            values = row(r) | {"updated_at": func.now()}
            if r.parent_code is None or r.parent_code in ids:
                values["parent_id"] = ids[r.parent_code] if r.parent_code else None
            else:
                later.append(r)
            await self._update(Jurisdiction, Jurisdiction.code, r.code, values)
        for r in later:
            await self._update(
                Jurisdiction, Jurisdiction.code, r.code, {"parent_id": ids[r.parent_code]}
            )
        # Regulators: replaced only where they changed.
        touched = create + [r for before, r in change if before.regulators != r.regulators]
        if touched:
            await self.session.execute(
                delete(Regulator).where(
                    Regulator.jurisdiction_id.in_([ids[r.code] for r in touched])
                )
            )
            await self._insert(
                Regulator,
                [
                    {"slug": g.id, "jurisdiction_id": ids[r.code], **g.model_dump(exclude={"id"})}
                    for r in touched
                    for g in r.regulators or []
                ],
                Regulator.id,
            )

    async def features(self, create: list[FeatureRecord], change: list[Any]) -> None:
        def row(r: FeatureRecord) -> dict[str, Any]:
            return r.model_dump(mode="json")

        await self._insert_named("feature", Feature, Feature.key, [row(r) for r in create])
        for _, r in change:
            await self._update(Feature, Feature.key, r.key, row(r) | {"updated_at": func.now()})

    async def metrics(self, create: list[MetricRecord], change: list[Any]) -> None:
        await self._insert_named("metric", Metric, Metric.key, [r.model_dump() for r in create])
        for _, r in change:
            await self._update(
                Metric, Metric.key, r.key, r.model_dump() | {"updated_at": func.now()}
            )

    async def feature_values(self, create: list[FeatureValueRecord], change: list[Any]) -> None:
        if not create and not change:
            return
        jurisdictions, features = self.ids["jurisdiction"], self.ids["feature"]

        def row(r: FeatureValueRecord) -> dict[str, Any]:
            return {
                "jurisdiction_id": jurisdictions[r.jurisdiction_code],
                "feature_id": features[r.feature_key],
                "value": r.value,
                "valid_from": r.valid_from,
                "valid_to": r.valid_to,
                "note": r.note,
                "confidence": r.confidence,
                "checked_on": r.checked_on,
            }

        # Changed rows first, so an interval being closed frees the range a new one takes.
        links: list[tuple[int, list[str]]] = []
        for before, r in sorted(change, key=lambda pair: pair[1].valid_to is None):
            values = row(r)
            row_id = await self.session.scalar(
                update(FeatureValue)
                .where(
                    FeatureValue.jurisdiction_id == values["jurisdiction_id"],
                    FeatureValue.feature_id == values["feature_id"],
                    FeatureValue.valid_from == r.valid_from,
                )
                .values(**values)
                .returning(FeatureValue.id)
            )
            if before.source_ids != r.source_ids:  # closing an interval keeps its sources
                links.append((_found(row_id), r.source_ids))
            else:
                _found(row_id)
        replaced = len(links)
        created = await self._insert(FeatureValue, [row(r) for r in create], FeatureValue.id)
        links += [(row_id, r.source_ids) for (row_id,), r in zip(created, create, strict=True)]
        await self._links(FeatureValueSource, "feature_value_id", links, replaced=replaced)

    async def observations(self, create: list[ObservationRecord], change: list[Any]) -> None:
        if not create and not change:
            return
        jurisdictions, metrics = self.ids["jurisdiction"], self.ids["metric"]

        def row(r: ObservationRecord) -> dict[str, Any]:
            start, end = r.span
            return {
                "jurisdiction_id": jurisdictions[r.jurisdiction_code],
                "metric_id": metrics[r.metric_key],
                "period": r.period,
                "period_start": start,
                "period_end": end,
                "value": r.value,
                "counterpart_id": jurisdictions.get(r.counterpart_code)
                if r.counterpart_code
                else None,
                "bound": r.bound,
                "confidence": r.confidence,
                "checked_on": r.checked_on,
                "note": r.note,
            }

        links: list[tuple[int, list[str]]] = []
        for chunk in range(0, len(change), 5000):
            part = [r for _, r in change[chunk : chunk + 5000]]
            links += await self._update_observations([row(r) for r in part], part)
        replaced = len(links)
        for chunk in range(0, len(create), 5000):
            part = create[chunk : chunk + 5000]
            created = await self._insert(Observation, [row(r) for r in part], Observation.id)
            links += [(row_id, r.source_ids) for (row_id,), r in zip(created, part, strict=True)]
        await self._links(ObservationSource, "observation_id", links, replaced=replaced)

    async def _update_observations(
        self, rows: list[dict[str, Any]], records: list[ObservationRecord]
    ) -> list[tuple[int, list[str]]]:
        """Update stored observations in one statement; their ids with the new source ids."""
        result = await self.session.execute(
            _UPDATE_OBSERVATIONS,
            {
                name: [row[name] for row in rows]
                for name in (
                    "jurisdiction_id",
                    "metric_id",
                    "period",
                    "counterpart_id",
                    "value",
                    "period_start",
                    "period_end",
                    "bound",
                    "confidence",
                    "checked_on",
                    "note",
                )
            },
        )
        updated = {(j, m, p, c): row_id for row_id, j, m, p, c in result.all()}
        return [
            (
                _found(
                    updated.get(
                        (
                            row["jurisdiction_id"],
                            row["metric_id"],
                            row["period"],
                            row["counterpart_id"],
                        )
                    )
                ),
                record.source_ids,
            )
            for row, record in zip(rows, records, strict=True)
        ]

    async def events(self, create: list[EventRecord], change: list[Any]) -> None:
        if not create and not change:
            return
        jurisdictions = self.ids["jurisdiction"]

        def row(r: EventRecord) -> dict[str, Any]:
            return {
                "slug": r.id,
                "jurisdiction_id": jurisdictions[r.jurisdiction_code],
                "event_date": r.date,
                "kind": r.kind,
                "title": r.title,
                "summary": r.summary,
            }

        links: list[tuple[int, list[str]]] = []
        for _, r in change:
            row_id = await self.session.scalar(
                update(Event).where(Event.slug == r.id).values(**row(r)).returning(Event.id)
            )
            links.append((_found(row_id), r.source_ids))
        replaced = len(links)
        created = await self._insert(Event, [row(r) for r in create], Event.id)
        links += [(row_id, r.source_ids) for (row_id,), r in zip(created, create, strict=True)]
        await self._links(EventSource, "event_id", links, replaced=replaced)

    async def indices(self, create: list[IndexRecord], change: list[Any]) -> None:
        if not create and not change:
            return
        features, metrics = self.ids["feature"], self.ids["metric"]
        await self._insert_named(
            "index",
            CompositeIndex,
            CompositeIndex.key,
            [r.model_dump(exclude={"components"}) for r in create],
        )
        for _, r in change:
            await self._update(
                CompositeIndex,
                CompositeIndex.key,
                r.key,
                r.model_dump(exclude={"components"}) | {"updated_at": func.now()},
            )
        ids = self.ids["index"]
        touched = create + [r for _, r in change]
        await self.session.execute(
            delete(IndexComponent).where(IndexComponent.index_id.in_([ids[r.key] for r in touched]))
        )
        await self.session.execute(
            insert(IndexComponent),
            [
                {
                    "index_id": ids[r.key],
                    "position": position,
                    "kind": c.kind,
                    "feature_id": features[c.key] if c.kind == "feature" else None,
                    "metric_id": metrics[c.key] if c.kind == "metric" else None,
                    "weight": c.weight,
                    "transform": c.transform,
                }
                for r in touched
                for position, c in enumerate(r.components)
            ],
        )

    async def scenarios(self, create: list[ScenarioRecord], change: list[Any]) -> None:
        if not create and not change:
            return
        jurisdictions, indices = self.ids["jurisdiction"], self.ids["index"]

        def row(r: ScenarioRecord) -> dict[str, Any]:
            data = r.model_dump(mode="json", exclude={"id", "index", "jurisdiction", "source_ids"})
            return {
                "slug": r.id,
                "index_id": indices[r.index],
                "jurisdiction_id": jurisdictions[r.jurisdiction],
                **data,
            }

        links: list[tuple[int, list[str]]] = []
        for _, r in change:
            row_id = await self.session.scalar(
                update(Scenario)
                .where(Scenario.slug == r.id)
                .values(**row(r), updated_at=func.now())
                .returning(Scenario.id)
            )
            links.append((_found(row_id), r.source_ids))
        replaced = len(links)
        created = await self._insert(Scenario, [row(r) for r in create], Scenario.id)
        links += [(row_id, r.source_ids) for (row_id,), r in zip(created, create, strict=True)]
        await self._links(ScenarioSource, "scenario_id", links, replaced=replaced)


# Entry points for the CLI and the embedded start --------------------------------------------


async def with_session(url: str, work: Callable[[AsyncSession], Any]) -> Any:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


async def is_empty(session: AsyncSession) -> bool:
    return await session.scalar(select(func.count()).select_from(Jurisdiction)) == 0


async def seed_async(
    url: str, *, if_empty: bool = False, on_stage: Stage | None = None
) -> ImportReport | None:
    """Load the bundled dataset (idempotent); with if_empty, only into an empty database."""
    dataset = bundled_dataset()

    async def work(session: AsyncSession) -> ImportReport | None:
        if if_empty and not await is_empty(session):
            return None
        return await apply_dataset(session, dataset, actor="seed", on_stage=on_stage)

    result: ImportReport | None = await with_session(url, work)
    return result


def seed_if_empty(url: str) -> ImportReport | None:
    return asyncio.run(seed_async(url, if_empty=True))


async def import_async(
    url: str,
    dataset: Dataset,
    *,
    actor: str,
    dry_run: bool,
    on_stage: Stage | None = None,
    prior_issues: Sequence[Issue] = (),
    positions: dict[str, list[int]] | None = None,
) -> ImportReport:
    async def work(session: AsyncSession) -> ImportReport:
        return await apply_dataset(
            session,
            dataset,
            actor=actor,
            dry_run=dry_run,
            on_stage=on_stage,
            prior_issues=prior_issues,
            positions=positions,
        )

    result: ImportReport = await with_session(url, work)
    return result


async def export_with_version_async(url: str) -> tuple[Dataset, int, datetime]:
    """The stored data with the data version and the time it last moved (one transaction)."""

    async def work(session: AsyncSession) -> tuple[Dataset, int, datetime]:
        data = await changes_service.get_data_version(session)
        return await read_database(session), data.version, data.changed_at

    result: tuple[Dataset, int, datetime] = await with_session(url, work)
    return result


async def export_async(url: str) -> Dataset:
    async def work(session: AsyncSession) -> Dataset:
        return await read_database(session)

    result: Dataset = await with_session(url, work)
    return result
