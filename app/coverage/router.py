from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.core.errors import error_responses
from app.core.schemas import parse_codes
from app.coverage import service
from app.coverage.schemas import COVERAGE_CSV, Coverage
from app.features.models import FeatureCategory
from app.http.auth import READ_ACCESS
from app.http.dependencies import AsOf, CodesQuery, FormatQuery, ReadSessionDep
from app.http.negotiation import CSV_CONTENT, csv_response, wants_csv

router = APIRouter(prefix="/v1/coverage", tags=["coverage"])


@router.get(
    "",
    operation_id="getCoverage",
    dependencies=[READ_ACCESS],
    summary="What is known, per jurisdiction and category",
    response_model=Coverage,
    responses={200: {"content": CSV_CONTENT}, **error_responses(404, 406, 422, 503)},
)
async def get_coverage(
    request: Request,
    session: ReadSessionDep,
    as_of: AsOf,
    jurisdictions: CodesQuery = None,
    category: Annotated[FeatureCategory | None, Query(description="Only this category.")] = None,
    format: FormatQuery = None,
) -> Any:
    """The fill matrix before you compare: for each jurisdiction and category, how many
    features have a value of the jurisdiction's own in force, how many an inherited one
    (EU -> member states, US -> US-NY, AE -> AE-DU -> DIFC), how many are unknown, and the
    values' confidence grades. "No such rule" is a value (filled); unknown means no source
    was found. Unpaginated (a row per jurisdiction and category)."""
    data = await service.coverage(
        session,
        as_of=as_of,
        codes=parse_codes(jurisdictions),
        category=category.value if category else None,
    )
    if wants_csv(request, format):
        return csv_response(COVERAGE_CSV, data["items"])
    return Coverage.model_validate(data)
