"""Index definitions and the data their scores are computed from."""

import json
import logging
import math
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFoundError
from app.core.records import build_record
from app.indices.records import IndexRecord
from app.indices.schemas import ComponentRead, IndexRead
from app.indices.writes import save_index
from app.scoring.transforms import Component, ComponentSpec, RawValue, scorable

log = logging.getLogger("juriscope.indices")

_INDEX = text(
    """
SELECT i.key, i.name, i.description, i.methodology,
       coalesce(json_agg(json_build_object(
         'kind', c.kind, 'key', coalesce(f.key, m.key), 'name', coalesce(f.name, m.name),
         'weight', c.weight, 'transform', c.transform,
         'higher_is_better', coalesce(f.higher_is_better, m.higher_is_better),
         'allowed_values', f.allowed_values) ORDER BY c.position)
         FILTER (WHERE c.index_id IS NOT NULL), '[]') AS components
  FROM composite_index i
  LEFT JOIN index_component c ON c.index_id = i.id
  LEFT JOIN feature f ON f.id = c.feature_id
  LEFT JOIN metric m ON m.id = c.metric_id
 WHERE CAST(:key AS text) IS NULL OR i.key = :key
 GROUP BY i.id ORDER BY i.key
"""
)

# The raw data of an index in one round trip: the jurisdictions of the compared set, the
# component features' values in force on :as_of, and each component metric's latest
# observation at or before :as_of. An `unverified` value, and an observation that is only a
# bound ("less than 0.5%"), are never scored: the component counts as unknown (features) or
# falls back to the latest scorable observation (metrics).
_RAW = text(
    """
WITH j AS (
  SELECT id, code, name FROM jurisdiction
   WHERE CAST(:codes AS text[]) IS NULL OR code = ANY(CAST(:codes AS text[]))
), m AS (
  SELECT id, key FROM metric WHERE key = ANY(CAST(:metrics AS text[]))
)
SELECT json_build_object(
  'jurisdictions', (SELECT coalesce(json_agg(json_build_object('code', code, 'name', name)
                                             ORDER BY code), '[]') FROM j),
  'features', (SELECT coalesce(json_agg(json_build_object('code', j.code, 'key', f.key,
                                                          'value', v.value)), '[]')
                 FROM feature_values_in_force(CAST(:as_of AS date), CAST(:codes AS text[]),
                                              CAST(:features AS text[])) e
                 JOIN j ON j.id = e.jurisdiction_id
                 JOIN feature_value v ON v.id = e.feature_value_id
                 JOIN feature f ON f.id = v.feature_id
                WHERE v.confidence <> 'unverified'),
  'metrics', (SELECT coalesce(json_agg(json_build_object('code', j.code, 'key', m.key,
                                                         'value', latest.value)), '[]')
                FROM j CROSS JOIN m CROSS JOIN LATERAL (
                  SELECT o.value FROM observation o
                   WHERE o.jurisdiction_id = j.id AND o.metric_id = m.id
                     AND o.counterpart_id IS NULL AND o.period_end <= :as_of
                     AND o.bound IS NULL AND o.confidence <> 'unverified'
                   ORDER BY o.period_end DESC, o.period_start DESC LIMIT 1) latest)
)
"""
)


class IndexNotFound(NotFoundError):
    def __init__(self, key: str) -> None:
        super().__init__(f"No index with key {key!r}.")


def _index(row: Any) -> tuple[IndexRead, list[dict[str, Any]]]:
    components = row.components if isinstance(row.components, list) else json.loads(row.components)
    return IndexRead(
        key=row.key,
        name=row.name,
        description=row.description,
        methodology=row.methodology,
        components=[ComponentRead.model_validate(c) for c in components],
    ), components


async def list_indices(session: AsyncSession) -> list[IndexRead]:
    """Every index definition, by key."""
    return [_index(row)[0] for row in await session.execute(_INDEX, {"key": None})]


async def get_index(session: AsyncSession, key: str) -> IndexRead:
    """One index definition; IndexNotFound if unknown."""
    return (await index_specs(session, key))[0]


async def index_specs(session: AsyncSession, key: str) -> tuple[IndexRead, list[ComponentSpec]]:
    """An index and its components as scoring specs; IndexNotFound if unknown."""
    row = (await session.execute(_INDEX, {"key": key})).one_or_none()
    if row is None:
        raise IndexNotFound(key)
    index, components = _index(row)
    specs = [
        ComponentSpec(
            Component(c["kind"], c["key"], float(c["weight"]), c["transform"]),
            higher_is_better=c["higher_is_better"],
            enum_scores={o["value"]: float(o["score"]) for o in c["allowed_values"]}
            if c["allowed_values"]
            else None,
        )
        for c in components
    ]
    return index, specs


async def raw_values(
    session: AsyncSession, specs: list[ComponentSpec], *, codes: list[str] | None, as_of: date
) -> tuple[dict[str, str], dict[str, dict[str, RawValue | None]]]:
    """Names of the compared set and each jurisdiction's raw value per component; a 404
    naming unknown codes."""
    features = [s.component.key for s in specs if s.component.kind == "feature"]
    metrics = [s.component.key for s in specs if s.component.kind == "metric"]
    raw = await session.scalar(
        _RAW, {"codes": codes, "features": features, "metrics": metrics, "as_of": as_of}
    )
    data: dict[str, Any] = raw if isinstance(raw, dict) else json.loads(raw)
    names = {j["code"]: j["name"] for j in data["jurisdictions"]}
    if codes is not None:
        unknown = [code for code in codes if code not in names]
        if unknown:
            raise NotFoundError(f"No jurisdiction with code {', '.join(repr(c) for c in unknown)}.")
    values: dict[str, dict[str, RawValue | None]] = {code: {} for code in names}
    by_key = {spec.component.key: spec for spec in specs}
    for item in data["features"] + data["metrics"]:
        value = item["value"]
        if value is not None and not scorable(by_key[item["key"]], value):
            # Writes refuse such values; one that is stored anyway (older data, SQL) counts
            # as missing rather than failing every caller's ranking.
            log.warning("unscorable stored value %r of %s for %s", value, item["key"], item["code"])
            value = None
        values[item["code"]][item["key"]] = value
    return names, values


def component_stats(
    spec: ComponentSpec, raw: dict[str, dict[str, RawValue | None]]
) -> dict[str, Any]:
    """Count, min and max of a component's raw values over the set (log for log_minmax)."""
    numbers = [
        float(v)
        for values in raw.values()
        if isinstance(v := values.get(spec.component.key), int | float) and not isinstance(v, bool)
    ]
    present = sum(1 for values in raw.values() if values.get(spec.component.key) is not None)
    if spec.component.transform == "log_minmax":
        numbers = [math.log1p(n) for n in numbers if n >= 0]
    if spec.component.transform not in ("minmax", "log_minmax", "rank") or not numbers:
        return {"count": present, "min": None, "max": None}
    return {"count": present, "min": min(numbers), "max": max(numbers)}


async def put_index(
    session: AsyncSession, *, key: str, data: dict[str, Any], actor: str
) -> IndexRead:
    """Create or replace an index, with its change record; 422 unless every component names a
    stored feature or metric with a transform that fits it, 409 when a log_minmax component
    has negative stored values."""
    record = build_record(IndexRecord, {**data, "key": key})
    await save_index(session, record, actor=actor)
    return await get_index(session, key)
