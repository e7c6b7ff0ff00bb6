"""Market metrics: definitions and panel data, read and written (scope `write`)."""

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request, Response

from app.core.errors import error_responses
from app.core.schemas import Key, parse_codes
from app.http.auth import READ_ACCESS, WriteKey
from app.http.dependencies import (
    JSON_ONLY,
    CodesQuery,
    FromQuery,
    Listing,
    MrvQuery,
    ReadSessionDep,
    SessionDep,
    ToQuery,
    period_range,
)
from app.http.etags import resource_etag
from app.http.lists import encode_cursor, next_link
from app.http.negotiation import CSV_CONTENT
from app.http.writes import check_if_match, fields_of, put_resource
from app.jurisdictions import service as jurisdictions_service
from app.metrics import service
from app.metrics.schemas import (
    OBSERVATION_CSV,
    BatchResult,
    MetricList,
    MetricRead,
    MetricWrite,
    ObservationBatch,
    ObservationList,
)

router = APIRouter(prefix="/v1/metrics", tags=["metrics"])

KeyPath = Annotated[
    Key, Path(description="Metric key, case-insensitive.", examples=["licensed_vasp_count"])
]
# The same key: the writes document it in fewer words.
WriteKeyPath = Annotated[Key, Path(description="Metric key.", examples=["licensed_vasp_count"])]
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503)
METRIC_CSV = ("key", "name", "unit", "frequency", "bilateral", "higher_is_better", "description")


@router.get(
    "",
    operation_id="listMetrics",
    dependencies=[READ_ACCESS],
    summary="List metric definitions",
    response_model=MetricList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(406, 422, 503)},
)
async def list_metrics(
    session: ReadSessionDep,
    listing: Listing,
) -> MetricList | Response:
    """Every metric with its unit, frequency and direction, ordered by key."""
    position = listing.position(str)
    rows = await service.list_metrics(
        session, after=position[0] if position else None, limit=listing.limit
    )
    return listing.respond(
        rows,
        key=lambda m: (m.key,),
        page=MetricList,
        columns=METRIC_CSV,
    )


@router.get(
    "/{key}",
    operation_id="getMetric",
    dependencies=[READ_ACCESS, JSON_ONLY],
    summary="Get a metric definition",
    response_model=MetricRead,
    responses=error_responses(404, 406, 422, 503),
)
async def get_metric(key: KeyPath, response: Response, session: ReadSessionDep) -> MetricRead:
    """One metric definition."""
    metric = await service.get_metric(session, key)
    response.headers["ETag"] = resource_etag(metric)
    return metric


@router.put(
    "/{key}",
    operation_id="putMetric",
    summary="Create or replace a metric definition",
    response_model=MetricRead,
    responses={201: {"model": MetricRead, "description": "Created."}, **WRITE_ERRORS},
)
async def put_metric(
    key: WriteKeyPath,
    body: Annotated[MetricWrite, Body()],  # type: ignore[valid-type]
    request: Request,
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> MetricRead:
    """Create the metric or replace its definition. Honours If-Match."""
    return await put_resource(
        request,
        response,
        load=lambda: service.get_metric(session, key),
        missing=service.MetricNotFound,
        write=lambda: service.put_metric(session, key=key, data=fields_of(body), actor=caller.id),
        location=f"/v1/metrics/{key}",
    )


@router.get(
    "/{key}/observations",
    operation_id="listMetricObservations",
    dependencies=[READ_ACCESS],
    summary="Panel data of a metric",
    response_model=ObservationList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(404, 406, 422, 503)},
)
async def list_metric_observations(
    key: KeyPath,
    session: ReadSessionDep,
    listing: Listing,
    jurisdictions: CodesQuery = None,
    counterpart: CodesQuery = None,
    from_: FromQuery = None,
    to: ToQuery = None,
    mrv: MrvQuery = None,
) -> ObservationList | Response:
    """Observations of one metric across jurisdictions: a panel, one series per jurisdiction
    (and counterpart, for bilateral metrics), ordered by jurisdiction, counterpart and period.

    `from`/`to` keep observations whose period lies within the range; `mrv=N` keeps the N
    most recent observations of each series.
    """
    position = listing.position(str, str, str, date, str)
    start, end = period_range(from_, to)
    metric_ids = await service.metric_ids_for(session, [key])
    codes = parse_codes(jurisdictions)
    counterparts = parse_codes(counterpart, name="counterpart")
    filters: dict[str, Any] = {
        "metric_ids": list(metric_ids.values()),
        "jurisdiction_ids": list(
            (await jurisdictions_service.jurisdiction_ids_for(session, codes)).values()
        )
        if codes
        else None,
        "counterpart_ids": list(
            (await jurisdictions_service.jurisdiction_ids_for(session, counterparts)).values()
        )
        if counterparts
        else None,
        "start": start,
        "end": end,
        "mrv": mrv,
        "after": position,
        "limit": listing.limit,
    }
    if listing.as_csv:
        rows = await service.list_observations(session, **filters)
        return listing.respond(
            rows, key=service.observation_cursor, page=ObservationList, columns=OBSERVATION_CSV
        )
    # A hot read: the page's JSON is built by PostgreSQL and sent as it comes.
    items, last = await service.list_observations_json(session, **filters)
    cursor = encode_cursor(last) if last is not None else None
    return Response(
        f'{{"items":{items},"next_cursor":{json.dumps(cursor)}}}',
        media_type="application/json",
        headers=next_link(listing.request, cursor),
    )


@router.post(
    "/{key}/observations",
    operation_id="upsertObservations",
    summary="Add or update observations of a metric",
    response_model=BatchResult,
    responses=WRITE_ERRORS,
)
async def upsert_observations(
    key: WriteKeyPath,
    body: ObservationBatch,
    request: Request,
    session: SessionDep,
    caller: WriteKey,
) -> BatchResult:
    """Upsert a batch by (jurisdiction, period, counterpart): new ones are created, changed
    ones updated, identical ones left alone. All or nothing: one invalid observation rejects
    the batch with a 422 naming it. Honours If-Match against the metric's ETag (GET
    /v1/metrics/{key}): the batch is stored only if the definition it was read against (unit,
    frequency) is still current."""
    await service.metric_ids_for(session, [key])
    if "if-match" in request.headers:
        check_if_match(request, await service.get_metric(session, key), exists=False)
    return await service.upsert_observations(
        session, key=key, data=[fields_of(o) for o in body.observations], actor=caller.id
    )
