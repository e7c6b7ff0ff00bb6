"""The regulatory timeline: reads, and writes (scope `write`)."""

from datetime import date

from fastapi import APIRouter, Response

from app.core.errors import error_responses
from app.core.schemas import parse_codes
from app.events import service
from app.events.dependencies import EventKindQuery
from app.events.records import EventRecord
from app.events.schemas import EVENT_CSV, EventList, EventRead
from app.http.auth import READ_ACCESS, WriteKey
from app.http.dependencies import (
    CodesQuery,
    FromQuery,
    Listing,
    ReadSessionDep,
    SessionDep,
    ToQuery,
    period_range,
)
from app.http.negotiation import CSV_CONTENT
from app.jurisdictions import service as jurisdictions_service

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.get(
    "",
    operation_id="listEvents",
    dependencies=[READ_ACCESS],
    summary="The regulatory timeline",
    response_model=EventList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(404, 406, 422, 503)},
)
async def list_events(
    session: ReadSessionDep,
    listing: Listing,
    jurisdictions: CodesQuery = None,
    from_: FromQuery = None,
    to: ToQuery = None,
    kind: EventKindQuery = None,
) -> EventList | Response:
    """Laws enacted and in force, licences, consultations, enforcement, market entries and
    exits, across jurisdictions, in date order."""
    position = listing.position(date, str)
    start, end = period_range(from_, to)
    codes = parse_codes(jurisdictions)
    ids = (
        list((await jurisdictions_service.jurisdiction_ids_for(session, codes)).values())
        if codes
        else None
    )
    rows = await service.list_events(
        session,
        jurisdiction_ids=ids,
        start=start,
        end=end,
        kinds=kind,
        after=position,
        limit=listing.limit,
    )
    return listing.respond(
        rows,
        key=service.event_cursor,
        page=EventList,
        columns=EVENT_CSV,
    )


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
