"""The fill matrix, in one statement: each jurisdiction's values in force (own, else the
nearest ancestor's for a feature that inherits: `feature_values_in_force`) counted per
category."""

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFoundError

_COVERAGE = text(
    """
WITH effective AS (
  SELECT e.jurisdiction_id, v.feature_id, v.confidence, e.inherited_from_id
    FROM feature_values_in_force(CAST(:as_of AS date)) e
    JOIN feature_value v ON v.id = e.feature_value_id
)
SELECT j.code, j.name, f.category,
       count(*) AS features,
       count(e.feature_id) FILTER (WHERE e.inherited_from_id IS NULL) AS filled,
       count(e.feature_id) FILTER (WHERE e.inherited_from_id IS NOT NULL) AS inherited,
       count(*) FILTER (WHERE e.feature_id IS NULL) AS unknown,
       count(*) FILTER (WHERE e.confidence = 'verified') AS verified,
       count(*) FILTER (WHERE e.confidence = 'reported') AS reported,
       count(*) FILTER (WHERE e.confidence = 'estimated') AS estimated,
       count(*) FILTER (WHERE e.confidence = 'disputed') AS disputed,
       count(*) FILTER (WHERE e.confidence = 'unverified') AS unverified
  FROM jurisdiction j CROSS JOIN feature f
  LEFT JOIN effective e ON e.jurisdiction_id = j.id AND e.feature_id = f.id
 WHERE (CAST(:codes AS text[]) IS NULL OR j.code = ANY(CAST(:codes AS text[])))
   AND (CAST(:category AS text) IS NULL OR f.category = :category)
 GROUP BY j.code, j.name, f.category
 ORDER BY j.code, f.category
"""
)


async def coverage(
    session: AsyncSession, *, as_of: date, codes: list[str] | None, category: str | None
) -> dict[str, Any]:
    """The matrix as plain data (shaped as `Coverage`); a 404 naming unknown codes."""
    rows = [
        dict(row)
        for row in (
            await session.execute(_COVERAGE, {"as_of": as_of, "codes": codes, "category": category})
        ).mappings()
    ]
    if codes is not None:
        unknown = sorted(set(codes) - {row["code"] for row in rows})
        if unknown and category is None:
            raise NotFoundError(f"No jurisdiction with code {', '.join(map(repr, unknown))}.")
    cells = sum(row["features"] for row in rows)
    filled = sum(row["filled"] for row in rows)
    inherited = sum(row["inherited"] for row in rows)
    return {
        "as_of": as_of.isoformat(),
        "totals": {
            "cells": cells,
            "filled": filled,
            "inherited": inherited,
            "unknown": cells - filled - inherited,
            "fill_ratio": round((filled + inherited) / cells, 4) if cells else 0.0,
        },
        "items": rows,
    }
