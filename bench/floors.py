"""The raw SQL floor of each endpoint: the same data read with hand-written SQL, as rows.

Each floor reads what its endpoint shows, with the same semantics (a value is in force when
valid_from <= as_of < valid_to; the latest observation of a series is the one with the
latest period_end, then period_start), in as few round trips as the data allows, without an
ORM, a transaction, JSON building or HTTP. What the API adds on top is the framework's cost.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime

import asyncpg

from bench.load import Floor

PROFILE = """
SELECT j.id, j.code, j.name, j.kind, p.code AS parent_code, j.region, j.currency, j.summary,
       j.updated_at,
       ARRAY(SELECT ROW(r.slug, r.name, r.acronym, r.url, r.remit) FROM regulator r
              WHERE r.jurisdiction_id = j.id ORDER BY r.slug) AS regulators,
       (SELECT count(DISTINCT v.feature_id) FROM feature_value v
         WHERE v.jurisdiction_id = j.id AND v.valid_from <= $2
           AND (v.valid_to IS NULL OR v.valid_to > $2)) AS features_in_force,
       (SELECT count(*) FROM feature_value v WHERE v.jurisdiction_id = j.id) AS feature_values,
       (SELECT count(*) FROM observation o WHERE o.jurisdiction_id = j.id) AS observations,
       (SELECT count(DISTINCT o.metric_id) FROM observation o
         WHERE o.jurisdiction_id = j.id) AS metrics,
       (SELECT count(*) FROM event e WHERE e.jurisdiction_id = j.id) AS events,
       (SELECT count(*) FROM (
          SELECT l.source_id FROM feature_value_source l
            JOIN feature_value v ON v.id = l.feature_value_id WHERE v.jurisdiction_id = j.id
          UNION
          SELECT l.source_id FROM observation_source l
            JOIN observation o ON o.id = l.observation_id WHERE o.jurisdiction_id = j.id
          UNION
          SELECT l.source_id FROM event_source l
            JOIN event e ON e.id = l.event_id WHERE e.jurisdiction_id = j.id) cited) AS sources,
       ARRAY(SELECT c.code FROM jurisdiction c WHERE c.parent_id = j.id ORDER BY c.code)
         AS children
  FROM jurisdiction j LEFT JOIN jurisdiction p ON p.id = j.parent_id
 WHERE j.code = $1
"""

# The latest observation of each series of `$1` (one jurisdiction id), at or before `$2`.
LATEST = """
SELECT j.code, m.key, m.name, m.unit, m.higher_is_better, latest.period, latest.value,
       latest.confidence, latest.note,
       ARRAY(SELECT s.slug FROM observation_source l JOIN source s ON s.id = l.source_id
              WHERE l.observation_id = latest.id ORDER BY s.slug) AS source_ids
  FROM jurisdiction j CROSS JOIN metric m
 CROSS JOIN LATERAL (
       SELECT o.id, o.period, o.value, o.confidence, o.note FROM observation o
        WHERE o.jurisdiction_id = j.id AND o.metric_id = m.id AND o.counterpart_id IS NULL
          AND o.period_end <= $2
        ORDER BY o.period_end DESC, o.period_start DESC LIMIT 1) latest
 WHERE j.id = ANY($1::int[]) AND NOT m.bilateral
"""

IN_FORCE = """
SELECT j.code, j.name, f.key, f.name AS feature_name, f.category, f.value_type, f.unit,
       f.allowed_values, f.higher_is_better, v.value, v.valid_from, v.valid_to, v.confidence,
       v.note,
       ARRAY(SELECT s.slug FROM feature_value_source l JOIN source s ON s.id = l.source_id
              WHERE l.feature_value_id = v.id ORDER BY s.slug) AS source_ids
  FROM jurisdiction j
  JOIN feature_value v ON v.jurisdiction_id = j.id
  JOIN feature f ON f.id = v.feature_id
 WHERE j.id = ANY($1::int[]) AND v.valid_from <= $2 AND (v.valid_to IS NULL OR v.valid_to > $2)
"""

# What a score needs: the raw value of each component for every jurisdiction, nothing more.
SCORE_FEATURES = """
SELECT j.code, f.key, v.value
  FROM feature_value v
  JOIN jurisdiction j ON j.id = v.jurisdiction_id
  JOIN feature f ON f.id = v.feature_id
 WHERE f.key = ANY($1::text[]) AND v.valid_from <= $2 AND (v.valid_to IS NULL OR v.valid_to > $2)
"""
SCORE_METRICS = """
SELECT j.code, m.key, latest.value
  FROM jurisdiction j CROSS JOIN metric m
 CROSS JOIN LATERAL (
       SELECT o.value FROM observation o
        WHERE o.jurisdiction_id = j.id AND o.metric_id = m.id AND o.counterpart_id IS NULL
          AND o.period_end <= $2
        ORDER BY o.period_end DESC, o.period_start DESC LIMIT 1) latest
 WHERE m.key = ANY($1::text[])
"""

IDS = "SELECT id, code, name FROM jurisdiction WHERE code = ANY($1::text[])"
ALL_IDS = "SELECT id, code, name FROM jurisdiction"
FEATURES = (
    "SELECT key, name, category, value_type, unit, allowed_values, higher_is_better FROM feature"
)
METRICS = "SELECT key, name, unit, higher_is_better, bilateral FROM metric"
SOURCES = "SELECT slug, publisher, title, url FROM source WHERE slug = ANY($1::text[])"

INDEX = """
SELECT c.position, c.kind, coalesce(f.key, m.key) AS key, coalesce(f.name, m.name) AS name,
       c.weight, c.transform, coalesce(f.higher_is_better, m.higher_is_better) AS higher,
       f.allowed_values
  FROM composite_index i
  JOIN index_component c ON c.index_id = i.id
  LEFT JOIN feature f ON f.id = c.feature_id
  LEFT JOIN metric m ON m.id = c.metric_id
 WHERE i.key = $1
 ORDER BY c.position
"""

PANEL = """
SELECT j.code, m.key, o.period, o.period_start, o.period_end, o.value, cp.code AS counterpart,
       ARRAY(SELECT s.slug FROM observation_source l JOIN source s ON s.id = l.source_id
              WHERE l.observation_id = o.id ORDER BY s.slug) AS source_ids,
       o.confidence, o.note
  FROM observation o
  JOIN jurisdiction j ON j.id = o.jurisdiction_id
  JOIN metric m ON m.id = o.metric_id
  LEFT JOIN jurisdiction cp ON cp.id = o.counterpart_id
 WHERE m.key = $1 AND j.code = ANY($2::text[]) AND o.period_start >= $3
 ORDER BY j.code, m.key, coalesce(cp.code, ''), o.period_start, o.period
 LIMIT $4
"""


def today() -> date:
    """The API's default `as_of` (UTC)."""
    return datetime.now(UTC).date()


def _slugs(rows: Iterable[asyncpg.Record]) -> list[str]:
    return sorted({slug for row in rows for slug in row["source_ids"]})


def profile(code: str) -> Floor:
    """GET /v1/jurisdictions/{code}: the row, regulators, counts, children, latest metrics."""

    async def read(connection: asyncpg.Connection) -> object:
        as_of = today()
        row = await connection.fetchrow(PROFILE, code, as_of)
        assert row is not None
        return row, await connection.fetch(LATEST, [row["id"]], as_of)

    return read


def compare(codes: list[str]) -> Floor:
    """GET /v1/compare: definitions, values in force, latest observations, cited sources."""

    async def read(connection: asyncpg.Connection) -> object:
        as_of = today()
        jurisdictions = await connection.fetch(IDS, codes)
        ids = [j["id"] for j in jurisdictions]
        values = await connection.fetch(IN_FORCE, ids, as_of)
        latest = await connection.fetch(LATEST, ids, as_of)
        sources = await connection.fetch(SOURCES, _slugs(values) + _slugs(latest))
        features = await connection.fetch(FEATURES)
        metrics = await connection.fetch(METRICS)
        return jurisdictions, features, metrics, values, latest, sources

    return read


def scores(index_key: str) -> Floor:
    """GET /v1/indices/{key}/scores: the components and every jurisdiction's raw values."""

    async def read(connection: asyncpg.Connection) -> object:
        as_of = today()
        components = await connection.fetch(INDEX, index_key)
        jurisdictions = await connection.fetch(ALL_IDS)
        features = [c["key"] for c in components if c["kind"] == "feature"]
        metrics = [c["key"] for c in components if c["kind"] == "metric"]
        values = await connection.fetch(SCORE_FEATURES, features, as_of)
        latest = await connection.fetch(SCORE_METRICS, metrics, as_of)
        return components, jurisdictions, values, latest

    return read


def panel(metric_key: str, codes: list[str], start: date, limit: int) -> Floor:
    """GET /v1/metrics/{key}/observations: one page of the panel, in series order."""

    async def read(connection: asyncpg.Connection) -> object:
        return await connection.fetch(PANEL, metric_key, codes, start, limit + 1)

    return read
