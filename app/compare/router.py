"""The comparison matrix: jurisdictions side by side."""

from typing import Any

from fastapi import APIRouter, Response
from pydantic_core import to_json

from app.compare import service
from app.compare.dependencies import ValidCompareQuery
from app.compare.schemas import Comparison
from app.core.errors import error_responses
from app.http.auth import READ_ACCESS
from app.http.dependencies import ReadSessionDep
from app.http.negotiation import CSV_CONTENT, csv_response

router = APIRouter(prefix="/v1/compare", tags=["compare"])


@router.get(
    "",
    operation_id="compareJurisdictions",
    dependencies=[READ_ACCESS],
    summary="Compare jurisdictions side by side",
    response_model=Comparison,
    responses={200: {"content": CSV_CONTENT}, **error_responses(404, 406, 422, 503)},
)
async def compare_jurisdictions(session: ReadSessionDep, query: ValidCompareQuery) -> Response:
    """The comparison matrix: every feature in force on `as_of` and each metric's latest
    observation at or before it, for each jurisdiction, with scores, the leaders of each row,
    whether the row differs, and every cited source once. A missing value is `null`.

    CSV: one row per feature or metric, one column per jurisdiction.
    """
    result = await service.compare(
        session,
        codes=query.codes,
        features=query.features,
        categories=query.categories,
        metrics=query.metrics,
        as_of=query.as_of,
    )
    if query.as_csv:
        return csv_response(["kind", "key", "name", "unit", *query.codes], _csv_rows(result))
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
