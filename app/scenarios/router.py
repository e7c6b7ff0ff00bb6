"""What-if scenarios: the evaluation (a read by POST), saved scenarios' reads, and their
writes (scope `write`)."""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response

from app.core.errors import error_responses
from app.core.periods import as_of_or_today
from app.core.schemas import JurisdictionCode, Key, Slug, parse_codes
from app.http.auth import READ_ACCESS, WriteKey
from app.http.dependencies import JSON_ONLY, AsOf, Listing, ReadSessionDep, SessionDep
from app.http.etags import resource_etag
from app.http.negotiation import CSV_CONTENT
from app.http.writes import check_if_match, fields_of, put_resource, set_etag
from app.indices import service as indices_service
from app.jurisdictions import service as jurisdictions_service
from app.scenarios import service
from app.scenarios.schemas import (
    ScenarioCreate,
    ScenarioEvaluation,
    ScenarioList,
    ScenarioRead,
    ScenarioRequest,
    ScenarioResult,
    ScenarioWrite,
)

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])

SCENARIO_CSV = (
    "id",
    "name",
    "index",
    "jurisdiction",
    "overrides",
    "weights",
    "description",
    "rationale",
    "source_ids",
)
# The peers the motivating article compares Hong Kong with.
DEFAULT_PEERS = "AE-DU,SG,US"

IdPath = Annotated[Slug, Path(description="Scenario id.", examples=["hk-dual-sandboxes"])]
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503)


@router.post(
    "/evaluate",
    operation_id="evaluateScenario",
    summary="What if a jurisdiction changed?",
    response_model=ScenarioResult,
    dependencies=[READ_ACCESS, JSON_ONLY],
    responses=error_responses(400, 404, 406, 413, 422, 429, 503),
)
async def evaluate_scenario(request: ScenarioRequest, session: ReadSessionDep) -> ScenarioResult:
    """Recompute an index with some of one jurisdiction's values replaced ("what if Hong Kong
    adopted a regulatory sandbox?") over the same compared set, and return its score and rank
    before and after, the deltas and the components that changed. Overrides are validated
    like writes; nothing is stored. Public, read-only. To keep a scenario, POST it to
    /v1/scenarios."""
    return await service.evaluate(session, request, as_of=as_of_or_today(request.as_of))


@router.get(
    "",
    operation_id="listScenarios",
    dependencies=[READ_ACCESS],
    summary="List saved scenarios",
    response_model=ScenarioList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(404, 406, 422, 503)},
)
async def list_scenarios(
    session: ReadSessionDep,
    listing: Listing,
    jurisdiction: Annotated[
        JurisdictionCode | None, Query(description="Only scenarios of this jurisdiction.")
    ] = None,
    index: Annotated[Key | None, Query(description="Only scenarios on this index.")] = None,
) -> ScenarioList | Response:
    """Saved what-if scenarios, ordered by id, with their overrides, rationale and sources.
    A filter naming an unknown jurisdiction or index is a 404."""
    if jurisdiction is not None:
        await jurisdictions_service.jurisdiction_ids_for(session, [jurisdiction])
    if index is not None:
        await indices_service.get_index(session, index)
    position = listing.position(str)
    rows = await service.list_scenarios(
        session,
        jurisdiction=jurisdiction,
        index=index,
        after=position[0] if position else None,
        limit=listing.limit,
    )
    return listing.respond(rows, key=lambda s: (s.id,), page=ScenarioList, columns=SCENARIO_CSV)


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


@router.get(
    "/{id}",
    operation_id="getScenario",
    dependencies=[READ_ACCESS, JSON_ONLY],
    summary="Get a saved scenario",
    response_model=ScenarioRead,
    responses=error_responses(404, 406, 422, 503),
)
async def get_scenario(id: IdPath, response: Response, session: ReadSessionDep) -> ScenarioRead:
    """One saved scenario: its index, jurisdiction, overrides, weights, description,
    rationale and sources."""
    scenario = await service.get_scenario(session, id)
    response.headers["ETag"] = resource_etag(scenario)
    return scenario


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


@router.get(
    "/{id}/evaluation",
    operation_id="getScenarioEvaluation",
    dependencies=[READ_ACCESS, JSON_ONLY],
    summary="Evaluate a saved scenario on current data",
    response_model=ScenarioEvaluation,
    responses=error_responses(404, 406, 409, 422, 503),
)
async def get_scenario_evaluation(
    id: IdPath,
    session: ReadSessionDep,
    as_of: AsOf,
    peers: Annotated[
        str,
        Query(
            max_length=2000,
            description="Comma-separated jurisdiction codes shown side by side, before and "
            "after the scenario (the scenario's own jurisdiction is left out). Default: the "
            "peers of the article that motivated Juriscope.",
            examples=[DEFAULT_PEERS],
        ),
    ] = DEFAULT_PEERS,
) -> ScenarioEvaluation:
    """The stored scenario evaluated as POST /v1/scenarios/evaluate would, on the data in
    force on `as_of` (default today), over every jurisdiction with the default
    `min_coverage` of 0.8: the jurisdiction's score and rank before and after, each changed
    component, the overrides that cannot change the score (`unused_overrides`: the value is
    already in force, or the index has no such component) and the peers' standing before
    and after. 409 when the stored scenario no longer fits a feature or index redefined
    since it was saved."""
    return await service.evaluate_scenario(
        session,
        id,
        as_of=as_of,
        peers=parse_codes(peers, name="peers") or [],
    )
