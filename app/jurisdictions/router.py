"""Jurisdictions: the list, profiles and their writes (scope `write`), and each
jurisdiction's feature values, observations and timeline. A jurisdiction's value of one
feature, `/{code}/features/{key}`, is read and set in app.features.router."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from app.core.errors import error_responses
from app.core.schemas import Key, parse_keys
from app.events import service as events_service
from app.events.dependencies import EventKindQuery
from app.events.schemas import EVENT_CSV, EventList
from app.features import service as features_service
from app.features.models import FeatureCategory
from app.features.schemas import VALUE_CSV, FeatureValueList
from app.http.auth import READ_ACCESS, WriteKey
from app.http.dependencies import (
    DEFAULT_LIMIT,
    JSON_ONLY,
    AsOf,
    CursorQuery,
    FormatQuery,
    FromQuery,
    HistoryQuery,
    LimitQuery,
    Listing,
    MrvQuery,
    ReadSessionDep,
    SessionDep,
    ToQuery,
    period_range,
)
from app.http.etags import resource_etag
from app.http.lists import decode_cursor, next_link, paginate
from app.http.negotiation import CSV_CONTENT, csv_response, wants_csv
from app.http.writes import (
    check_if_match,
    fields_of,
    has_preconditions,
    put_resource,
    set_etag,
)
from app.jurisdictions import service
from app.jurisdictions.dependencies import CodePath
from app.jurisdictions.models import JurisdictionKind, Region
from app.jurisdictions.schemas import (
    JurisdictionList,
    JurisdictionPatch,
    JurisdictionProfile,
    JurisdictionWrite,
)
from app.metrics import service as metrics_service
from app.metrics.schemas import OBSERVATION_CSV, ObservationList

router = APIRouter(prefix="/v1/jurisdictions", tags=["jurisdictions"])

WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503)
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
    dependencies=[READ_ACCESS],
    summary="List jurisdictions",
    response_model=JurisdictionList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(404, 406, 422, 503)},
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
    position = decode_cursor(cursor, str)
    has_feature_id = (
        None if has_feature is None else await features_service.feature_id_for(session, has_feature)
    )
    rows = await service.list_jurisdictions(
        session,
        region=region,
        kind=kind,
        q=q,
        has_feature_id=has_feature_id,
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
    dependencies=[READ_ACCESS, JSON_ONLY],
    summary="Get a jurisdiction's profile",
    response_model=JurisdictionProfile,
    responses=error_responses(404, 406, 422, 503),
)
async def get_jurisdiction(
    code: CodePath, response: Response, session: ReadSessionDep
) -> JurisdictionProfile:
    """A jurisdiction with its regulators, counts of the data held on it, its subdivisions and
    the latest observation of each of its (non-bilateral) metrics."""
    profile = await service.get_jurisdiction_profile(session, code)
    response.headers["ETag"] = resource_etag(profile)
    return profile


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
    # Preconditions compare the whole representation; without them only the record is read.
    current = None
    if has_preconditions(request):
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


@router.get(
    "/{code}/features",
    operation_id="listJurisdictionFeatures",
    dependencies=[READ_ACCESS],
    summary="A jurisdiction's feature values",
    response_model=FeatureValueList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(404, 406, 422, 503)},
)
async def list_jurisdiction_features(
    code: CodePath,
    session: ReadSessionDep,
    as_of: AsOf,
    listing: Listing,
    history: HistoryQuery = False,
    category: Annotated[FeatureCategory | None, Query(description="Only this category.")] = None,
) -> FeatureValueList | Response:
    """The jurisdiction's feature values in force on `as_of` (default today), or its whole
    history with `history=true`; ordered by feature key, then valid_from."""
    position = listing.position(str, date)
    jurisdiction_id = await service.jurisdiction_id_for(session, code)
    rows = await features_service.list_jurisdiction_values(
        session,
        jurisdiction_id=jurisdiction_id,
        as_of=None if history else as_of,
        category=category,
        after=position,
        limit=listing.limit,
    )
    return listing.respond(
        rows,
        key=lambda v: (v.feature_key, v.valid_from.isoformat()),
        page=FeatureValueList,
        columns=VALUE_CSV,
    )


@router.get(
    "/{code}/metrics",
    operation_id="listJurisdictionObservations",
    dependencies=[READ_ACCESS],
    summary="A jurisdiction's observations",
    response_model=ObservationList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(404, 406, 422, 503)},
)
async def list_jurisdiction_observations(
    code: CodePath,
    session: ReadSessionDep,
    listing: Listing,
    metrics: Annotated[
        str | None, Query(max_length=2000, description="Comma-separated metric keys.")
    ] = None,
    from_: FromQuery = None,
    to: ToQuery = None,
    mrv: MrvQuery = None,
) -> ObservationList | Response:
    """The jurisdiction's observations of every metric (or those listed), ordered by metric,
    counterpart and period; `mrv=N` keeps the N most recent of each series."""
    position = listing.position(str, str, str, date, str)
    start, end = period_range(from_, to)
    jurisdiction_id = await service.jurisdiction_id_for(session, code)
    keys = parse_keys(metrics, name="metrics")
    metric_ids = (
        list((await metrics_service.metric_ids_for(session, keys)).values()) if keys else None
    )
    rows = await metrics_service.list_observations(
        session,
        metric_ids=metric_ids,
        jurisdiction_ids=[jurisdiction_id],
        start=start,
        end=end,
        mrv=mrv,
        after=position,
        limit=listing.limit,
    )
    return listing.respond(
        rows,
        key=metrics_service.observation_cursor,
        page=ObservationList,
        columns=OBSERVATION_CSV,
    )


@router.get(
    "/{code}/events",
    operation_id="listJurisdictionEvents",
    dependencies=[READ_ACCESS],
    summary="A jurisdiction's timeline",
    response_model=EventList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(404, 406, 422, 503)},
)
async def list_jurisdiction_events(
    code: CodePath,
    session: ReadSessionDep,
    listing: Listing,
    from_: FromQuery = None,
    to: ToQuery = None,
    kind: EventKindQuery = None,
) -> EventList | Response:
    """The jurisdiction's regulatory events in date order."""
    position = listing.position(date, str)
    start, end = period_range(from_, to)
    jurisdiction_id = await service.jurisdiction_id_for(session, code)
    rows = await events_service.list_events(
        session,
        jurisdiction_ids=[jurisdiction_id],
        start=start,
        end=end,
        kinds=kind,
        after=position,
        limit=listing.limit,
    )
    return listing.respond(
        rows,
        key=events_service.event_cursor,
        page=EventList,
        columns=EVENT_CSV,
    )
