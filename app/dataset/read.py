"""Reading stored rows back as dataset records: the whole database for an export, or only the
rows a batch names (its scope) with what its checks need, in a few statements."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.rows import Ids
from app.dataset.plan import Scope, scope_of
from app.dataset.schemas import ENTITY_FILES, Dataset
from app.dataset.validate import Known
from app.features.records import FeatureRecord
from app.metrics.records import MetricRecord

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
