"""Writes to composite indices (scope `write`)."""

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from app.core.errors import error_responses
from app.http.auth import WriteKey
from app.http.dependencies import SessionDep
from app.http.writes import fields_of, put_resource
from app.indices import service
from app.indices.router import KeyPath
from app.indices.schemas import IndexRead, IndexWrite

router = APIRouter(prefix="/v1/indices", tags=["indices"])


@router.put(
    "/{key}",
    operation_id="putIndex",
    summary="Create or replace a composite index",
    response_model=IndexRead,
    responses={
        201: {"model": IndexRead, "description": "Created."},
        **error_responses(400, 401, 403, 409, 412, 413, 422, 429, 503),
    },
)
async def put_index(
    key: KeyPath,
    body: Annotated[IndexWrite, Body()],  # type: ignore[valid-type]
    request: Request,
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> IndexRead:
    """Create the index or replace its components, weights and methodology. Each component
    must name an existing feature or metric, with a transform that fits its type (enum_score
    for enums, boolean for booleans, minmax/log_minmax/rank for numbers and metrics).
    Honours If-Match."""
    return await put_resource(
        request,
        response,
        load=lambda: service.get_index(session, key),
        missing=service.IndexNotFound,
        write=lambda: service.put_index(session, key=key, data=fields_of(body), actor=caller.id),
        location=f"/v1/indices/{key}",
    )
