"""Writes to the timeline (scope `write`)."""

from fastapi import APIRouter, Response

from app.core.errors import error_responses
from app.dataset.schemas import EventRecord
from app.events import service
from app.events.schemas import EventRead
from app.http.auth import WriteKey
from app.http.dependencies import SessionDep

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.post(
    "",
    operation_id="createEvent",
    summary="Add an event to the timeline",
    response_model=EventRead,
    status_code=201,
    responses=error_responses(400, 401, 403, 409, 413, 422, 429, 503),
)
async def create_event(
    body: EventRecord,
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> EventRead:
    """Add a dated event (a law enacted or in force, a licence, an enforcement action, a
    market entry or exit...) with its sources. 409 if the id is taken."""
    event = await service.create_event(session, record=body, actor=caller.id)
    response.headers["Location"] = f"/v1/events?jurisdictions={body.jurisdiction_code}"
    return event
