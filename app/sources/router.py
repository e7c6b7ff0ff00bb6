"""Sources: reads, and writes (scope `write`)."""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response

from app.core.errors import error_responses
from app.core.schemas import Slug
from app.http.auth import READ_ACCESS, WriteKey
from app.http.dependencies import JSON_ONLY, Listing, ReadSessionDep, SessionDep
from app.http.etags import resource_etag
from app.http.negotiation import CSV_CONTENT
from app.http.writes import fields_of, put_resource
from app.sources import service
from app.sources.models import SourceKind
from app.sources.schemas import SourceList, SourceRead, SourceWrite

router = APIRouter(prefix="/v1/sources", tags=["sources"])

IdPath = Annotated[Slug, Path(description="Source id.", examples=["hk-sfc-vatp-2023"])]
SOURCE_CSV = ("id", "publisher", "title", "url", "published_on", "accessed_on", "kind", "note")


@router.get(
    "",
    operation_id="listSources",
    dependencies=[READ_ACCESS],
    summary="List sources",
    response_model=SourceList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(406, 422, 503)},
)
async def list_sources(
    session: ReadSessionDep,
    listing: Listing,
    kind: Annotated[SourceKind | None, Query(description="Only this kind of source.")] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Search in titles, publishers and ids."),
    ] = None,
) -> SourceList | Response:
    """Every source cited by a value, observation or event, ordered by id."""
    position = listing.position(str)
    rows = await service.list_sources(
        session, kind=kind, q=q, after=position[0] if position else None, limit=listing.limit
    )
    return listing.respond(
        rows,
        key=lambda s: (s.id,),
        page=SourceList,
        columns=SOURCE_CSV,
    )


@router.get(
    "/{id}",
    operation_id="getSource",
    dependencies=[READ_ACCESS, JSON_ONLY],
    summary="Get a source",
    response_model=SourceRead,
    responses=error_responses(404, 406, 422, 503),
)
async def get_source(id: IdPath, response: Response, session: ReadSessionDep) -> SourceRead:
    """One source with its publisher, URL, dates and reliability note."""
    source = await service.get_source(session, id)
    response.headers["ETag"] = resource_etag(source)
    return source


@router.put(
    "/{id}",
    operation_id="putSource",
    summary="Create or replace a source",
    response_model=SourceRead,
    responses={
        201: {"model": SourceRead, "description": "Created."},
        **error_responses(400, 401, 403, 409, 412, 413, 422, 429, 503),
    },
)
async def put_source(
    id: IdPath,
    body: Annotated[SourceWrite, Body()],  # type: ignore[valid-type]
    request: Request,
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> SourceRead:
    """Create the source or replace it. Honours If-Match."""
    return await put_resource(
        request,
        response,
        load=lambda: service.get_source(session, id),
        missing=service.SourceNotFound,
        write=lambda: service.put_source(
            session, source_id=id, data=fields_of(body), actor=caller.id
        ),
        location=f"/v1/sources/{id}",
    )
