from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.changes import service
from app.changes.schemas import ChangeList
from app.core.errors import error_responses
from app.http.auth import READ_ACCESS, get_caller
from app.http.dependencies import Listing, ReadSessionDep
from app.http.negotiation import CSV_CONTENT
from app.keys.schemas import Caller

router = APIRouter(prefix="/v1/changes", tags=["changes"])

CHANGE_CSV = ("id", "at", "actor", "entity", "entity_key", "action", "before", "after")


class ChangeEntity(StrEnum):
    """The kinds of entity the change feed records."""

    JURISDICTION = "jurisdiction"
    SOURCE = "source"
    FEATURE = "feature"
    FEATURE_VALUE = "feature_value"
    METRIC = "metric"
    OBSERVATION = "observation"
    EVENT = "event"
    INDEX = "index"
    SCENARIO = "scenario"
    API_KEY = "api_key"


@router.get(
    "",
    operation_id="listChanges",
    dependencies=[READ_ACCESS],
    summary="The change feed",
    response_model=ChangeList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(406, 422, 503)},
)
async def list_changes(
    session: ReadSessionDep,
    listing: Listing,
    caller: Annotated[Caller | None, Depends(get_caller)],
    since: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="Only changes with a higher id.")
    ] = 0,
    entity: Annotated[
        ChangeEntity | None, Query(description="Only changes of this entity.")
    ] = None,
) -> ChangeList | Response:
    """Every write in order, with its actor and the entity's state before and after. To
    sync, keep the highest `id` you have seen and ask again with `since=<id>`. Changes to API
    keys are listed only to callers with an admin key."""
    position = listing.position(int)
    after = max(since, position[0]) if position else since
    admin = caller is not None and "admin" in caller.scopes
    rows = await service.list_changes(
        session, since=after, entity=entity, limit=listing.limit, include_keys=admin
    )
    return listing.respond(
        rows,
        key=lambda c: (c.id,),
        page=ChangeList,
        columns=CHANGE_CSV,
    )
