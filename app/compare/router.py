from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic_core import to_json

from app.compare import service
from app.compare.schemas import Comparison
from app.core.errors import ValidationFailed, error_responses
from app.core.schemas import parse_codes, parse_keys
from app.features.models import FeatureCategory
from app.http.auth import READ_ACCESS
from app.http.dependencies import AsOf, FormatQuery, ReadSessionDep
from app.http.negotiation import CSV_CONTENT, csv_response, wants_csv

router = APIRouter(prefix="/v1/compare", tags=["compare"])

MIN_CODES, MAX_CODES = 2, 50


@router.get(
    "",
    operation_id="compareJurisdictions",
    dependencies=[READ_ACCESS],
    summary="Compare jurisdictions side by side",
    response_model=Comparison,
    responses={200: {"content": CSV_CONTENT}, **error_responses(404, 406, 422, 503)},
)
async def compare_jurisdictions(
    request: Request,
    session: ReadSessionDep,
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
) -> Response:
    """The comparison matrix: every feature in force on `as_of` and each metric's latest
    observation at or before it, for each jurisdiction, with scores, the leaders of each row,
    whether the row differs, and every cited source once. A missing value is `null`.

    CSV: one row per feature or metric, one column per jurisdiction.
    """
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
    result = await service.compare(
        session,
        codes=codes,
        features=parse_keys(features, name="features"),
        categories=category_list,
        metrics=parse_keys(metrics, name="metrics"),
        as_of=as_of,
    )
    if as_csv:
        return csv_response(["kind", "key", "name", "unit", *codes], _csv_rows(result))
    return Response(to_json(result), media_type="application/json")


def _csv_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "kind": kind.removesuffix("s"),
            "key": row["key"],
            "name": row["name"],
            "unit": row["unit"],
            **{code: cell["value"] if cell else None for code, cell in row["values"].items()},
        }
        for kind in ("features", "metrics")
        for row in result[kind]
    ]
