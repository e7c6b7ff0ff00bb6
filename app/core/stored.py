"""Reading stored rows back as records, for each domain's writes and the dataset's batches and
exports: a domain's query (`Stored`, in its records.py) run whole or narrowed to the keys a
write names, and the rows a write refers to by natural key, in one statement.

Raw SQL over the domains' tables by name: core imports no domain.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.rows import Ids

R = TypeVar("R", bound=BaseModel)


class Stored(NamedTuple):
    """How a domain's records are read back: the query, its filters by the parameter that
    enables each (a row matching any of them is read), and its order."""

    select: str
    filters: dict[str, str]
    order: str


async def read_records(
    session: AsyncSession,
    stored: Stored,
    model: type[R],
    parameters: Mapping[str, Any] | None = None,
) -> list[R]:
    """Every stored record, or with `parameters` only those its enabled filters name."""
    sql = f"{stored.select} {stored.order}"
    if parameters is not None:
        # Only the filters given values: no keys read nothing, and no empty alternative keeps
        # the planner from the indexes.
        where = [condition for name, condition in stored.filters.items() if parameters.get(name)]
        if not where:
            return []
        sql = f"{stored.select} WHERE {' OR '.join(f'({c})' for c in where)} {stored.order}"
    rows = (await session.execute(text(sql), dict(parameters or {}))).mappings().all()
    return [model.model_validate(dict(row)) for row in rows]


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

_REFERENCE_KEYS = ("codes", "sources", "features", "metrics", "indices", "regulators")


@dataclass
class References:
    """The stored rows a write refers to: their ids, the parent chains of the jurisdictions,
    the owners of the regulators, the feature and metric definitions (JSON, for the owning
    domain's record model) and what indices score with log_minmax."""

    ids: Ids = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)
    jurisdictions: dict[str, str | None] = field(default_factory=dict)  # code -> parent code
    regulators: dict[str, str] = field(default_factory=dict)  # regulator id -> code
    definitions: dict[str, list[str]] = field(default_factory=dict)  # kind -> JSON objects
    # (kind, key) -> indices that score it with log_minmax (which needs values >= 0)
    log_scored: dict[tuple[str, str], list[str]] = field(default_factory=dict)


async def read_references(session: AsyncSession, parameters: Mapping[str, Any]) -> References:
    """The jurisdictions (with their ancestors), sources, features, metrics (and those of the
    `components_of` indices), indices and regulators named in `parameters` (lists of natural
    keys), in one statement."""
    values = {name: list(parameters.get(name) or []) for name in _REFERENCE_KEYS}
    values["components_of"] = list(parameters.get("components_of") or [])
    found = References(
        ids={kind: {} for kind in ("jurisdiction", "source", "feature", "metric", "index")},
        definitions={"feature": [], "metric": []},
    )
    for kind, key, extra, row_id in (await session.execute(_REFERENCES, values)).all():
        if kind == "log_minmax":
            component_kind, _, component_key = extra.partition(":")
            found.log_scored.setdefault((component_kind, component_key), []).append(key)
            continue
        if kind == "regulator":
            found.regulators[key] = extra
            continue
        found.ids[kind][key] = row_id
        if kind in found.definitions:
            found.definitions[kind].append(extra)
        elif kind == "source":
            found.sources.add(key)
        elif kind == "jurisdiction":
            found.jurisdictions[key] = extra
    return found
