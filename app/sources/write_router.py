"""Writes to sources (scope `write`)."""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request, Response

from app.core.errors import error_responses
from app.core.schemas import Slug
from app.http.auth import WriteKey
from app.http.dependencies import SessionDep
from app.http.writes import fields_of, put_resource
from app.sources import service
from app.sources.schemas import SourceRead, SourceWrite

router = APIRouter(prefix="/v1/sources", tags=["sources"])


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
    id: Annotated[Slug, Path(description="Source id.", examples=["hk-sfc-vatp-2023"])],
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
