"""Writes to sources (scope `write`)."""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request, Response

from app.auth import WriteKey
from app.dataset.schemas import SourceRecord
from app.deps import SessionDep
from app.errors import error_responses
from app.schemas_common import Slug
from app.sources import service
from app.sources.schemas import SourceRead, SourceWrite
from app.writes import apply, build_record, check_if_match, fields_of, set_etag

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
    try:
        current: SourceRead | None = await service.get_source(session, id)
    except service.SourceNotFound:
        current = None
    check_if_match(request, current)
    record = build_record(SourceRecord, {**fields_of(body), "id": id})
    await apply(request, session, caller.id, sources=[record])
    stored = await service.get_source(session, id)
    if current is None:
        response.status_code = 201
        response.headers["Location"] = f"/v1/sources/{id}"
    set_etag(response, stored)
    return stored
