"""Writes to features (scope `write`): definitions, and a jurisdiction's value over time."""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request, Response

from app.core.errors import error_responses
from app.core.schemas import JurisdictionCode, Key
from app.features import service
from app.features.schemas import FeatureRead, FeatureValueHistory, FeatureValueWrite, FeatureWrite
from app.http.auth import WriteKey
from app.http.dependencies import SessionDep
from app.http.writes import check_if_match, fields_of, put_resource, set_etag

router = APIRouter(tags=["features"])

WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503)
KeyPath = Annotated[Key, Path(description="Feature key.", examples=["regulatory_sandbox"])]
CodePath = Annotated[JurisdictionCode, Path(description="Jurisdiction code.", examples=["HK"])]


@router.put(
    "/v1/features/{key}",
    operation_id="putFeature",
    summary="Create or replace a feature definition",
    response_model=FeatureRead,
    responses={201: {"model": FeatureRead, "description": "Created."}, **WRITE_ERRORS},
)
async def put_feature(
    key: KeyPath,
    body: Annotated[FeatureWrite, Body()],  # type: ignore[valid-type]
    request: Request,
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> FeatureRead:
    """Create the feature or replace its definition. A redefinition must still accept every
    value stored for it (422 otherwise). Honours If-Match."""
    return await put_resource(
        request,
        response,
        load=lambda: service.get_feature(session, key),
        missing=service.FeatureNotFound,
        write=lambda: service.put_feature(session, key=key, data=fields_of(body), actor=caller.id),
        location=f"/v1/features/{key}",
    )


@router.put(
    "/v1/jurisdictions/{code}/features/{key}",
    operation_id="setJurisdictionFeature",
    summary="Set a jurisdiction's value of a feature from a date",
    response_model=FeatureValueHistory,
    responses={
        201: {"model": FeatureValueHistory, "description": "A new interval was opened."},
        **WRITE_ERRORS,
    },
)
async def set_jurisdiction_feature(
    code: CodePath,
    key: KeyPath,
    body: FeatureValueWrite,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> FeatureValueHistory:
    """Set the value from `valid_from` on: the interval in force that day is closed on it and
    a new one opened, so history is kept. The value is validated against the feature's type
    and allowed values; every source must exist. Sending the same interval again changes
    nothing (200). 409 when an interval already starts that day with another value, or when
    the new interval would overlap a later one. Honours If-Match (the ETag of GET on this
    path). The change feed records it once, with the pair's whole history before and after."""
    current = await service.get_history(session, code=code, key=key)
    check_if_match(request, current, exists=bool(current.history))
    stored, opened = await service.set_feature_value(
        session, code=code, key=key, data=body.model_dump(), actor=caller.id, current=current
    )
    if opened:
        response.status_code = 201
        response.headers["Location"] = f"/v1/jurisdictions/{code}/features/{key}"
    set_etag(response, stored)
    return stored
