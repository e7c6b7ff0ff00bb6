"""Writes to jurisdictions (scope `write`): create or replace, patch, delete."""

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from app.core.errors import error_responses
from app.http.auth import WriteKey
from app.http.dependencies import SessionDep
from app.http.writes import check_if_match, fields_of, put_resource, set_etag
from app.jurisdictions import service
from app.jurisdictions.router import CodePath
from app.jurisdictions.schemas import JurisdictionPatch, JurisdictionProfile, JurisdictionWrite

router = APIRouter(prefix="/v1/jurisdictions", tags=["jurisdictions"])

WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503)


@router.put(
    "/{code}",
    operation_id="putJurisdiction",
    summary="Create or replace a jurisdiction",
    response_model=JurisdictionProfile,
    responses={201: {"model": JurisdictionProfile, "description": "Created."}, **WRITE_ERRORS},
)
async def put_jurisdiction(
    code: CodePath,
    body: Annotated[JurisdictionWrite, Body()],  # type: ignore[valid-type]
    request: Request,
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> JurisdictionProfile:
    """Create the jurisdiction, or replace all its fields and regulators. Honours If-Match."""
    return await put_resource(
        request,
        response,
        load=lambda: service.get_jurisdiction_profile(session, code),
        missing=service.JurisdictionNotFound,
        write=lambda: service.put_jurisdiction(
            session, code=code, data=fields_of(body), actor=caller.id
        ),
        location=f"/v1/jurisdictions/{code}",
    )


@router.patch(
    "/{code}",
    operation_id="patchJurisdiction",
    summary="Change some fields of a jurisdiction",
    response_model=JurisdictionProfile,
    responses=WRITE_ERRORS,
)
async def patch_jurisdiction(
    code: CodePath,
    body: Annotated[JurisdictionPatch, Body()],  # type: ignore[valid-type]
    request: Request,
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> JurisdictionProfile:
    """Change the fields sent; the others keep their values. Honours If-Match."""
    current = await service.get_jurisdiction_profile(session, code)
    check_if_match(request, current)
    profile = await service.patch_jurisdiction(
        session,
        code=code,
        changes=fields_of(body, only_sent=True),
        actor=caller.id,
        current=current,
    )
    set_etag(response, profile)
    return profile


@router.delete(
    "/{code}",
    operation_id="deleteJurisdiction",
    summary="Delete a jurisdiction",
    status_code=204,
    responses=WRITE_ERRORS,
)
async def delete_jurisdiction(
    code: CodePath,
    request: Request,
    session: SessionDep,
    caller: WriteKey,
    cascade: Annotated[
        bool,
        Query(
            description="Also delete the jurisdiction's feature values, observations, "
            "events and saved scenarios (needs an admin key). Without it, a jurisdiction "
            "that has data is refused with 409."
        ),
    ] = False,
) -> Response:
    """Delete a jurisdiction and its regulators. When it has data of its own (feature values,
    observations, events, saved scenarios), `cascade=true` and an admin key are needed, and
    the change feed then records every removed row (feature-value histories, observations,
    events, scenarios) before the jurisdiction itself. Refused with 409 while other
    jurisdictions depend on it: subdivisions or zones within it, or observations naming it
    as counterpart. Honours If-Match."""
    current = await service.get_jurisdiction_profile(session, code)
    check_if_match(request, current)
    await service.delete_jurisdiction(
        session, code, actor=caller.id, scopes=caller.scopes, cascade=cascade
    )
    return Response(status_code=204)
