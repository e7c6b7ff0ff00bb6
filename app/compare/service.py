"""The comparison matrix, read in one SQL round trip and assembled here."""

import json
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFoundError, ValidationFailed
from app.core.models import Confidence
from app.core.schemas import round_score
from app.features.rules import NUMERIC_TYPES, value_score
from app.scoring.transforms import Component, ComponentSpec, normalize

# One statement: the jurisdictions, the features in scope with the values in force on :as_of,
# the metrics with each jurisdiction's latest observation at or before :as_of, and the sources
# they cite. Ids never leave the database.
_COMPARE = text(
    """
WITH j AS (
  SELECT id, code, name FROM jurisdiction WHERE code = ANY(CAST(:codes AS text[]))
), f AS (
  SELECT id, key, name, category, value_type, unit, allowed_values, higher_is_better
    FROM feature
   WHERE (CAST(:features AS text[]) IS NULL OR key = ANY(CAST(:features AS text[])))
     AND (CAST(:categories AS text[]) IS NULL OR category = ANY(CAST(:categories AS text[])))
), v AS (
  -- Each jurisdiction's value in force: its own, else inherited (migration 6b2d8e4f1a37).
  SELECT fv.id, j.code, f.key, fv.value, fv.valid_from, fv.valid_to, fv.confidence, fv.note,
         fv.checked_on,
         a.code AS inherited_from,
         (SELECT array_agg(s.slug ORDER BY s.slug) FROM feature_value_source l
            JOIN source s ON s.id = l.source_id WHERE l.feature_value_id = fv.id) AS source_ids
    FROM feature_values_in_force(CAST(:as_of AS date), CAST(:codes AS text[]),
                                 CAST(:features AS text[])) e
    JOIN j ON j.id = e.jurisdiction_id
    JOIN feature_value fv ON fv.id = e.feature_value_id
    JOIN f ON f.id = fv.feature_id
    LEFT JOIN jurisdiction a ON a.id = e.inherited_from_id
), m AS (
  SELECT id, key, name, unit, higher_is_better, bilateral FROM metric
   WHERE CAST(:metrics AS text[]) IS NULL OR key = ANY(CAST(:metrics AS text[]))
), o AS (
  SELECT latest.id, j.code, m.key, latest.period, latest.value, latest.bound, latest.confidence,
         latest.checked_on, latest.note
    FROM j CROSS JOIN m CROSS JOIN LATERAL (
      SELECT o.id, o.period, o.value, o.bound, o.confidence, o.checked_on, o.note
        FROM observation o
       WHERE o.jurisdiction_id = j.id AND o.metric_id = m.id AND o.counterpart_id IS NULL
         AND o.period_end <= :as_of
       ORDER BY o.period_end DESC, o.period_start DESC LIMIT 1) latest
   WHERE NOT m.bilateral
), os AS (
  SELECT l.observation_id AS id, array_agg(s.slug ORDER BY s.slug) AS ids
    FROM observation_source l JOIN source s ON s.id = l.source_id
   WHERE l.observation_id IN (SELECT id FROM o) GROUP BY l.observation_id
)
SELECT json_build_object(
  'jurisdictions', (SELECT coalesce(json_agg(json_build_object('code', code, 'name', name)),
                                    '[]') FROM j),
  'features', (SELECT coalesce(json_agg(json_build_object(
                  'key', key, 'name', name, 'category', category, 'value_type', value_type,
                  'unit', unit, 'allowed_values', allowed_values,
                  'higher_is_better', higher_is_better) ORDER BY category, key), '[]') FROM f),
  'values', (SELECT coalesce(json_agg(json_build_object(
                  'code', v.code, 'key', v.key, 'value', v.value, 'valid_from', v.valid_from,
                  'valid_to', v.valid_to, 'confidence', v.confidence, 'note', v.note,
                  'checked_on', v.checked_on,
                  'inherited_from', v.inherited_from,
                  'source_ids', coalesce(v.source_ids, '{}'))), '[]')
               FROM v),
  'metrics', (SELECT coalesce(json_agg(json_build_object(
                  'key', key, 'name', name, 'unit', unit, 'higher_is_better', higher_is_better,
                  'bilateral', bilateral) ORDER BY key), '[]') FROM m),
  'observations', (SELECT coalesce(json_agg(json_build_object(
                  'code', o.code, 'key', o.key, 'period', o.period, 'value', o.value,
                  'bound', o.bound, 'confidence', o.confidence, 'checked_on', o.checked_on,
                  'note', o.note,
                  'source_ids', coalesce(os.ids, '{}'))), '[]')
               FROM o LEFT JOIN os ON os.id = o.id),
  'sources', (SELECT coalesce(json_agg(json_build_object(
                  'id', s.slug, 'publisher', s.publisher, 'title', s.title, 'url', s.url)
                  ORDER BY s.slug), '[]')
               FROM source s
              WHERE s.slug IN (SELECT unnest(source_ids) FROM v UNION SELECT unnest(ids) FROM os))
)
"""
)


async def compare(
    session: AsyncSession,
    *,
    codes: list[str],
    features: list[str] | None,
    categories: list[str] | None,
    metrics: list[str] | None,
    as_of: date,
) -> dict[str, Any]:
    """The comparison matrix of `codes` on `as_of` (shaped as `Comparison`); 404 naming
    unknown codes or keys."""
    raw = await session.scalar(
        _COMPARE,
        {
            "codes": codes,
            "features": features,
            "categories": categories,
            "metrics": metrics,
            "as_of": as_of,
        },
    )
    data: dict[str, Any] = raw if isinstance(raw, dict) else json.loads(raw)
    found = {j["code"]: j["name"] for j in data["jurisdictions"]}
    _missing("jurisdiction with code", codes, found)
    if features is not None:
        _missing("feature with key", features, {f["key"] for f in data["features"]})
    if metrics is not None:
        _missing("metric with key", metrics, {m["key"] for m in data["metrics"]})
        bilateral = [m["key"] for m in data["metrics"] if m["bilateral"]]
        if bilateral:
            raise ValidationFailed(
                f"bilateral metrics cannot be compared side by side: {', '.join(bilateral)}; "
                "use /v1/metrics/{key}/observations with `counterpart`",
                errors=[
                    {"loc": ["query", "metrics"], "msg": f"{key} is bilateral", "type": "bilateral"}
                    for key in bilateral
                ],
            )
    values: dict[tuple[str, str], dict[str, Any]] = {
        (v["key"], v["code"]): v for v in data["values"]
    }
    observations: dict[tuple[str, str], dict[str, Any]] = {
        (o["key"], o["code"]): o for o in data["observations"]
    }
    # Built as plain data and serialised once (pydantic-core, in Rust): the Comparison model
    # documents this shape; validating a thousand cells again would double the work.
    return {
        "as_of": as_of.isoformat(),
        "jurisdictions": [{"code": code, "name": found[code]} for code in codes],
        "features": [_feature_row(f, codes, values) for f in data["features"]],
        "metrics": [
            _metric_row(m, codes, observations)
            for m in data["metrics"]
            if not m["bilateral"]
            and (metrics is not None or any((m["key"], code) in observations for code in codes))
        ],
        "sources": data["sources"],
    }


def _missing(what: str, asked: list[str], found: Any) -> None:
    unknown = [key for key in asked if key not in found]
    if unknown:
        raise NotFoundError(f"No {what} {', '.join(repr(k) for k in unknown)}.")


def _feature_row(
    feature: dict[str, Any], codes: list[str], values: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    key, value_type = feature["key"], feature["value_type"]
    cells = {code: values.get((key, code)) for code in codes}
    # An unverified value is shown, never scored.
    scored = {c: v for c, v in cells.items() if v and v["confidence"] != Confidence.unverified}
    scores: dict[str, float] = {}
    if value_type in NUMERIC_TYPES:
        spec = ComponentSpec(
            Component("feature", key, 1.0, "minmax"), higher_is_better=feature["higher_is_better"]
        )
        scores = normalize(spec, {c: v["value"] for c, v in scored.items()})
    else:
        for code, cell in scored.items():
            score = value_score(
                value_type, feature["allowed_values"], feature["higher_is_better"], cell["value"]
            )
            if score is not None:
                scores[code] = score
    best = max(scores.values(), default=None)
    # The type is part of the value: true and 1 differ.
    distinct = {(type(c["value"]).__name__, c["value"]) if c else None for c in cells.values()}
    return {
        "key": key,
        "name": feature["name"],
        "category": feature["category"],
        "value_type": value_type,
        "unit": feature["unit"],
        "higher_is_better": feature["higher_is_better"],
        "values": {
            code: None
            if cell is None
            else {
                "value": cell["value"],
                "score": round_score(scores.get(code)),
                "valid_from": cell["valid_from"],
                "valid_to": cell["valid_to"],
                "inherited_from": cell["inherited_from"],
                "confidence": cell["confidence"],
                "checked_on": cell["checked_on"],
                "source_ids": cell["source_ids"],
                "note": cell["note"],
            }
            for code, cell in cells.items()
        },
        "leaders": [code for code in codes if best is not None and scores.get(code) == best],
        "differs": len(distinct) > 1,
    }


def _metric_row(
    metric: dict[str, Any], codes: list[str], observations: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    cells = {code: observations.get((metric["key"], code)) for code in codes}
    # Only point values with a traceable source lead: a bound or an unverified figure does not.
    present = {
        code: cell["value"]
        for code, cell in cells.items()
        if cell is not None
        and cell["bound"] is None
        and cell["confidence"] != Confidence.unverified
    }
    leaders: list[str] = []
    if present and metric["higher_is_better"] is not None:
        best = (max if metric["higher_is_better"] else min)(present.values())
        leaders = [code for code in codes if present.get(code) == best]
    return {
        "key": metric["key"],
        "name": metric["name"],
        "unit": metric["unit"],
        "higher_is_better": metric["higher_is_better"],
        "values": {
            code: None
            if cell is None
            else {
                "value": float(cell["value"]),
                "period": cell["period"],
                "bound": cell["bound"],
                "confidence": cell["confidence"],
                "checked_on": cell["checked_on"],
                "source_ids": cell["source_ids"],
                "note": cell["note"],
            }
            for code, cell in cells.items()
        },
        "leaders": leaders,
    }
