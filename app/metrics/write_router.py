"""Writes to metrics (scope `write`): definitions and batches of observations."""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request, Response

from app.core.errors import error_responses
from app.core.schemas import Key
from app.http.auth import WriteKey
from app.http.dependencies import SessionDep
from app.http.writes import check_if_match, fields_of, put_resource
from app.metrics import service
from app.metrics.schemas import BatchResult, MetricRead, MetricWrite, ObservationBatch

router = APIRouter(prefix="/v1/metrics", tags=["metrics"])

WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503)
KeyPath = Annotated[Key, Path(description="Metric key.", examples=["licensed_vasp_count"])]


@router.put(
    "/{key}",
    operation_id="putMetric",
    summary="Create or replace a metric definition",
    response_model=MetricRead,
    responses={201: {"model": MetricRead, "description": "Created."}, **WRITE_ERRORS},
)
async def put_metric(
    key: KeyPath,
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


@router.post(
    "/{key}/observations",
    operation_id="upsertObservations",
    summary="Add or update observations of a metric",
    response_model=BatchResult,
    responses=WRITE_ERRORS,
)
async def upsert_observations(
    key: KeyPath,
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
