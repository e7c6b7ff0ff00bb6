from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.deps import DEFAULT_LIMIT, JSON_ONLY, CursorQuery, FormatQuery, LimitQuery, ReadSessionDep
from app.errors import error_responses
from app.http import CSV_CONTENT, decode_cursor, list_response, resource_etag, wants_csv
from app.schemas_common import Slug
from app.sources import service
from app.sources.models import SourceKind
from app.sources.schemas import SourceList, SourceRead

router = APIRouter(prefix="/v1/sources", tags=["sources"])

SOURCE_CSV = ("id", "publisher", "title", "url", "published_on", "accessed_on", "kind", "note")


@router.get(
    "",
    operation_id="listSources",
    summary="List sources",
    response_model=SourceList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(406, 422, 503)},
)
async def list_sources(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    kind: Annotated[SourceKind | None, Query(description="Only this kind of source.")] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Search in titles, publishers and ids."),
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    format: FormatQuery = None,
) -> SourceList:
    """Every source cited by a value, observation or event, ordered by id."""
    as_csv = wants_csv(request, format)
    position = decode_cursor(cursor, str)
    rows = await service.list_sources(
        session, kind=kind, q=q, after=position[0] if position else None, limit=limit
    )
    return list_response(
        request,
        response,
        rows,
        limit=limit,
        key=lambda s: (s.id,),
        page=SourceList,
        as_csv=as_csv,
        columns=SOURCE_CSV,
    )


@router.get(
    "/{id}",
    operation_id="getSource",
    dependencies=[JSON_ONLY],
    summary="Get a source",
    response_model=SourceRead,
    responses=error_responses(404, 406, 422, 503),
)
async def get_source(
    id: Annotated[Slug, Path(description="Source id.", examples=["hk-sfc-vatp-2023"])],
    response: Response,
    session: ReadSessionDep,
) -> SourceRead:
    """One source with its publisher, URL, dates and reliability note."""
    source = await service.get_source(session, id)
    response.headers["ETag"] = resource_etag(source)
    return source
