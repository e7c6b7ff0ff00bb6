from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.core.errors import error_responses
from app.core.schemas import Key, parse_codes
from app.features import service
from app.features.models import FeatureCategory
from app.features.schemas import VALUE_CSV, FeatureList, FeatureRead, FeatureValueList
from app.http.auth import READ_ACCESS
from app.http.dependencies import (
    JSON_ONLY,
    AsOf,
    CodesQuery,
    HistoryQuery,
    Listing,
    ReadSessionDep,
)
from app.http.etags import resource_etag
from app.http.negotiation import CSV_CONTENT
from app.jurisdictions import service as jurisdictions_service

router = APIRouter(prefix="/v1/features", tags=["features"])

KeyPath = Annotated[
    Key, Path(description="Feature key, case-insensitive.", examples=["retail_trading_allowed"])
]
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
    "",
    operation_id="listFeatures",
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
    "/{key}",
    operation_id="getFeature",
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


@router.get(
    "/{key}/values",
    operation_id="listFeatureValues",
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
