"""Writes to saved scenarios (scope `write`)."""

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response

from app.core.errors import error_responses
from app.http.auth import WriteKey
from app.http.dependencies import SessionDep
from app.http.writes import check_if_match, fields_of, put_resource, set_etag
from app.scenarios import service
from app.scenarios.router import IdPath
from app.scenarios.schemas import ScenarioCreate, ScenarioRead, ScenarioWrite

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])

WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503)


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
    stored = await service.create_scenario(session, data=fields_of(body), actor=caller.id)
    response.headers["Location"] = f"/v1/scenarios/{stored.id}"
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
        load=lambda: service.get_scenario(session, id),
        missing=service.ScenarioNotFound,
        write=lambda: service.put_scenario(
            session, scenario_id=id, data=fields_of(body), actor=caller.id
        ),
        location=f"/v1/scenarios/{id}",
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
