"""Writes to saved scenarios (scope `write`)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from app.core.errors import ConflictError, error_responses
from app.dataset.schemas import ScenarioRecord
from app.http.auth import WriteKey
from app.http.dependencies import SessionDep
from app.http.writes import apply, build_record, check_if_match, fields_of, put_resource, set_etag
from app.scenarios import service
from app.scenarios.router import IdPath
from app.scenarios.schemas import ScenarioCreate, ScenarioRead, ScenarioWrite

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])

WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503)


async def _load(session: Any, scenario_id: str) -> ScenarioRead | None:
    try:
        return await service.get_scenario(session, scenario_id)
    except service.ScenarioNotFound:
        return None


@router.post(
    "",
    operation_id="createScenario",
    summary="Save a scenario",
    response_model=ScenarioRead,
    status_code=201,
    responses=WRITE_ERRORS,
)
async def create_scenario(
    body: Annotated[ScenarioCreate, Body()],  # type: ignore[valid-type]
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> ScenarioRead:
    """Save a named scenario under the id given. Its index, overrides and weights are
    checked exactly as POST /v1/scenarios/evaluate checks them (the same 404 and 422
    problems), and its `source_ids` must name stored sources. 409 if the id is taken.
    Answers with the scenario, its `Location` and `ETag`."""
    record = build_record(ScenarioRecord, fields_of(body))
    if await _load(session, record.id) is not None:
        raise ConflictError(f"A scenario with id {record.id!r} already exists.")
    await service.check_scenario(session, record)
    await apply(session, caller.id, scenarios=[record])
    stored = await service.get_scenario(session, record.id)
    response.headers["Location"] = f"/v1/scenarios/{record.id}"
    set_etag(response, stored)
    return stored


@router.put(
    "/{id}",
    operation_id="putScenario",
    summary="Create or replace a scenario",
    response_model=ScenarioRead,
    responses={201: {"model": ScenarioRead, "description": "Created."}, **WRITE_ERRORS},
)
async def put_scenario(
    id: IdPath,
    body: Annotated[ScenarioWrite, Body()],  # type: ignore[valid-type]
    request: Request,
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> ScenarioRead:
    """Create the scenario or replace every field of it, checked as createScenario checks
    them. Honours If-Match and If-None-Match: *."""
    return await put_resource(
        request,
        response,
        session,
        caller.id,
        entity="scenarios",
        record=ScenarioRecord,
        data={**fields_of(body), "id": id},
        load=lambda: service.get_scenario(session, id),
        missing=service.ScenarioNotFound,
        location=f"/v1/scenarios/{id}",
        check=lambda record: service.check_scenario(session, record),
    )


@router.delete(
    "/{id}",
    operation_id="deleteScenario",
    summary="Delete a scenario",
    status_code=204,
    responses=WRITE_ERRORS,
)
async def delete_scenario(
    id: IdPath, request: Request, session: SessionDep, caller: WriteKey
) -> Response:
    """Delete a saved scenario; the change feed records it with its last state. Honours
    If-Match."""
    current = await service.get_scenario(session, id)
    check_if_match(request, current)
    record = await service.get_scenario_record(session, id)
    await service.delete_scenario(session, record, actor=caller.id)
    return Response(status_code=204)
