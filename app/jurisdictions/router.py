from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.deps import DEFAULT_LIMIT, CursorQuery, FormatQuery, LimitQuery, ReadSessionDep
from app.errors import error_responses
from app.http import CSV_CONTENT, csv_response, decode_cursor, next_link, paginate, wants_csv
from app.jurisdictions import service
from app.jurisdictions.models import JurisdictionKind, Region
from app.jurisdictions.schemas import JurisdictionList, JurisdictionProfile
from app.schemas_common import JurisdictionCode, Key

router = APIRouter(prefix="/v1/jurisdictions", tags=["jurisdictions"])

CodePath = Annotated[
    JurisdictionCode,
    Path(description="Jurisdiction code, case-insensitive (e.g. `HK`, `ae-du`).", examples=["HK"]),
]

LIST_CSV_COLUMNS = (
    "code",
    "name",
    "kind",
    "parent_code",
    "region",
    "currency",
    "regulators",
    "updated_at",
)


@router.get(
    "",
    operation_id="listJurisdictions",
    summary="List jurisdictions",
    response_model=JurisdictionList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(406, 422, 503)},
)
async def list_jurisdictions(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    region: Annotated[Region | None, Query(description="Only this region.")] = None,
    kind: Annotated[JurisdictionKind | None, Query(description="Only this kind.")] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Search in names and codes (substring and fuzzy match).",
        ),
    ] = None,
    has_feature: Annotated[
        Key | None,
        Query(
            description="Only jurisdictions with a value of this feature in force today "
            "(for boolean features: the value `true`)."
        ),
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    format: FormatQuery = None,
) -> Response | JurisdictionList:
    """Jurisdictions ordered by code, with their regulators.

    Filters combine with AND. Pages with `limit` and `cursor`; the `Link` header carries the
    next page's URL.
    """
    as_csv = wants_csv(request, format)
    position = decode_cursor(cursor, arity=1)
    rows = await service.list_jurisdictions(
        session,
        region=region,
        kind=kind,
        q=q,
        has_feature=has_feature,
        after=position[0] if position else None,
        limit=limit,
    )
    items, next_cursor = paginate(rows, limit=limit, key=lambda j: (j.code,))
    headers = next_link(request, next_cursor)
    if as_csv:
        return csv_response(
            LIST_CSV_COLUMNS,
            (
                {**j.model_dump(mode="json"), "regulators": [r.id for r in j.regulators]}
                for j in items
            ),
            headers=headers,
        )
    response.headers.update(headers)
    return JurisdictionList(items=items, next_cursor=next_cursor)


@router.get(
    "/{code}",
    operation_id="getJurisdiction",
    summary="Get a jurisdiction's profile",
    response_model=JurisdictionProfile,
    responses=error_responses(404, 406, 422, 503),
)
async def get_jurisdiction(code: CodePath, session: ReadSessionDep) -> JurisdictionProfile:
    """A jurisdiction with its regulators, counts of the data held on it, its subdivisions and
    the latest observation of each of its (non-bilateral) metrics."""
    return await service.get_jurisdiction_profile(session, code)
