"""The comparison's query parameters, parsed and checked before any database work."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request

from app.core.errors import ValidationFailed
from app.core.schemas import parse_codes, parse_keys
from app.features.models import FeatureCategory
from app.http.dependencies import AsOf, FormatQuery
from app.http.negotiation import wants_csv

MIN_CODES, MAX_CODES = 2, 50


@dataclass(frozen=True)
class CompareQuery:
    """What to compare: the jurisdictions, the rows (features or categories, metrics), the
    day, and whether as CSV."""

    codes: list[str]
    features: list[str] | None
    categories: list[str] | None
    metrics: list[str] | None
    as_of: date
    as_csv: bool


async def get_compare_query(
    request: Request,
    as_of: AsOf,
    jurisdictions: Annotated[
        str,
        Query(
            max_length=2000, description="2 to 50 comma-separated codes.", examples=["HK,SG,AE-DU"]
        ),
    ],
    features: Annotated[
        str | None, Query(max_length=4000, description="Only these feature keys.")
    ] = None,
    categories: Annotated[
        str | None,
        Query(
            max_length=500, description="Only features of these categories (not with `features`)."
        ),
    ] = None,
    metrics: Annotated[
        str | None,
        Query(
            max_length=4000,
            description="Only these metric keys (default: every metric "
            "with data for the compared set).",
        ),
    ] = None,
    format: FormatQuery = None,
) -> CompareQuery:
    """GET /v1/compare's parameters. The representation first (406), then a 422 for a
    malformed code or key, a number of codes outside 2 to 50, `features` with `categories`,
    or an unknown category."""
    as_csv = wants_csv(request, format)
    codes = parse_codes(jurisdictions) or []
    if not MIN_CODES <= len(codes) <= MAX_CODES:
        raise ValidationFailed(
            f"jurisdictions: compare takes {MIN_CODES} to {MAX_CODES} codes, got {len(codes)}",
            errors=[
                {
                    "loc": ["query", "jurisdictions"],
                    "type": "length",
                    "msg": f"Between {MIN_CODES} and {MAX_CODES} codes",
                }
            ],
        )
    if features is not None and categories is not None:
        raise ValidationFailed(
            "give `features` or `categories`, not both",
            errors=[
                {
                    "loc": ["query", "categories"],
                    "type": "exclusive",
                    "msg": "Not allowed together with features",
                }
            ],
        )
    category_list = parse_keys(categories, name="categories")
    if category_list:
        unknown = [c for c in category_list if c not in FeatureCategory.__members__]
        if unknown:
            raise ValidationFailed(
                f"categories: unknown {', '.join(unknown)}; one of "
                f"{', '.join(FeatureCategory.__members__)}",
                errors=[
                    {
                        "loc": ["query", "categories"],
                        "msg": f"Unknown category {c!r}",
                        "type": "enum",
                    }
                    for c in unknown
                ],
            )
    return CompareQuery(
        codes=codes,
        features=parse_keys(features, name="features"),
        categories=category_list,
        metrics=parse_keys(metrics, name="metrics"),
        as_of=as_of,
        as_csv=as_csv,
    )


ValidCompareQuery = Annotated[CompareQuery, Depends(get_compare_query)]
