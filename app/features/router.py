"""Features: a jurisdiction's value of one feature over time, read and set; the regulatory
taxonomy's definitions, read and written; a feature's values across jurisdictions. Writes
need the scope `write`."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response

from app.core.errors import error_responses
from app.core.schemas import JurisdictionCode, Key, parse_codes
from app.features import service
from app.features.models import FeatureCategory
from app.features.schemas import (
    VALUE_CSV,
    FeatureList,
    FeatureRead,
    FeatureValueHistory,
    FeatureValueList,
    FeatureValueWrite,
    FeatureWrite,
)
from app.http.auth import READ_ACCESS, WriteKey
from app.http.dependencies import (
    JSON_ONLY,
    AsOf,
    CodesQuery,
    HistoryQuery,
    Listing,
    ReadSessionDep,
    SessionDep,
)
from app.http.etags import resource_etag
from app.http.negotiation import CSV_CONTENT
from app.http.writes import check_if_match, fields_of, put_resource, set_etag
from app.jurisdictions import service as jurisdictions_service
from app.jurisdictions.dependencies import CodePath

# No prefix and no common tag: a jurisdiction's value of a feature is under
# /v1/jurisdictions, and its read is listed with the jurisdiction's other reads.
router = APIRouter()

KeyPath = Annotated[
    Key, Path(description="Feature key, case-insensitive.", examples=["retail_trading_allowed"])
]
# The same key and code: the writes document them in fewer words.
WriteKeyPath = Annotated[Key, Path(description="Feature key.", examples=["regulatory_sandbox"])]
WriteCodePath = Annotated[JurisdictionCode, Path(description="Jurisdiction code.", examples=["HK"])]
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503)
FEATURE_CSV = (
    "key",
    "name",
    "category",
    "value_type",
    "unit",
    "higher_is_better",
    "allowed_values",
    "description",
)


@router.get(
    "/v1/jurisdictions/{code}/features/{key}",
    operation_id="getJurisdictionFeature",
    tags=["jurisdictions"],
    summary="A jurisdiction's value of one feature, with its history",
    response_model=FeatureValueHistory,
    dependencies=[READ_ACCESS, JSON_ONLY],
    responses=error_responses(404, 406, 422, 503),
)
async def get_jurisdiction_feature(
    code: CodePath,
    key: Annotated[Key, Path(description="Feature key.")],
    response: Response,
    session: ReadSessionDep,
) -> FeatureValueHistory:
    """The value in force today and every interval of the history, oldest first."""
    history = await service.get_history(session, code=code, key=key)
    response.headers["ETag"] = resource_etag(history)
    return history


@router.put(
    "/v1/jurisdictions/{code}/features/{key}",
    operation_id="setJurisdictionFeature",
    tags=["features"],
    summary="Set a jurisdiction's value of a feature from a date",
    response_model=FeatureValueHistory,
    responses={
        201: {"model": FeatureValueHistory, "description": "A new interval was opened."},
        **WRITE_ERRORS,
    },
)
async def set_jurisdiction_feature(
    code: WriteCodePath,
    key: WriteKeyPath,
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


@router.get(
    "/v1/features",
    operation_id="listFeatures",
    tags=["features"],
    dependencies=[READ_ACCESS],
    summary="List feature definitions",
    response_model=FeatureList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(406, 422, 503)},
)
async def list_features(
    session: ReadSessionDep,
    listing: Listing,
    category: Annotated[FeatureCategory | None, Query(description="Only this category.")] = None,
) -> FeatureList | Response:
    """The regulatory taxonomy: every feature with its category, value type, allowed values
    (with their scores) and direction, ordered by key."""
    position = listing.position(str)
    rows = await service.list_features(
        session, category=category, after=position[0] if position else None, limit=listing.limit
    )
    return listing.respond(
        rows,
        key=lambda f: (f.key,),
        page=FeatureList,
        columns=FEATURE_CSV,
    )


@router.get(
    "/v1/features/{key}",
    operation_id="getFeature",
    tags=["features"],
    dependencies=[READ_ACCESS, JSON_ONLY],
    summary="Get a feature definition",
    response_model=FeatureRead,
    responses=error_responses(404, 406, 422, 503),
)
async def get_feature(key: KeyPath, response: Response, session: ReadSessionDep) -> FeatureRead:
    """One feature definition."""
    feature = await service.get_feature(session, key)
    response.headers["ETag"] = resource_etag(feature)
    return feature


@router.put(
    "/v1/features/{key}",
    operation_id="putFeature",
    tags=["features"],
    summary="Create or replace a feature definition",
    response_model=FeatureRead,
    responses={201: {"model": FeatureRead, "description": "Created."}, **WRITE_ERRORS},
)
async def put_feature(
    key: WriteKeyPath,
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


@router.get(
    "/v1/features/{key}/values",
    operation_id="listFeatureValues",
    tags=["features"],
    dependencies=[READ_ACCESS],
    summary="A feature across jurisdictions",
    response_model=FeatureValueList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(404, 406, 422, 503)},
)
async def list_feature_values(
    key: KeyPath,
    session: ReadSessionDep,
    as_of: AsOf,
    listing: Listing,
    history: HistoryQuery = False,
    jurisdictions: CodesQuery = None,
) -> FeatureValueList | Response:
    """The value of one feature in every jurisdiction (or those listed) in force on `as_of`,
    or its whole history with `history=true`; ordered by jurisdiction code, then valid_from."""
    position = listing.position(str, date)
    codes = parse_codes(jurisdictions)
    feature_id = await service.feature_id_for(session, key)
    ids = (
        list((await jurisdictions_service.jurisdiction_ids_for(session, codes)).values())
        if codes
        else None
    )
    rows = await service.list_feature_values(
        session,
        feature_id=feature_id,
        as_of=None if history else as_of,
        jurisdiction_ids=ids,
        after=position,
        limit=listing.limit,
    )
    return listing.respond(
        rows,
        key=lambda v: (v.jurisdiction_code, v.valid_from.isoformat()),
        page=FeatureValueList,
        columns=VALUE_CSV,
    )
