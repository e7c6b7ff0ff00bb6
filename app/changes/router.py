from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.changes import service
from app.changes.schemas import ChangeList
from app.deps import DEFAULT_LIMIT, CursorQuery, FormatQuery, LimitQuery, ReadSessionDep
from app.errors import error_responses
from app.http import CSV_CONTENT, decode_cursor, list_response, wants_csv

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
    API_KEY = "api_key"


@router.get(
    "",
    operation_id="listChanges",
    summary="The change feed",
    response_model=ChangeList,
    responses={200: {"content": CSV_CONTENT}, **error_responses(406, 422, 503)},
)
async def list_changes(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    since: Annotated[int, Query(ge=0, description="Only changes with a higher id.")] = 0,
    entity: Annotated[
        ChangeEntity | None, Query(description="Only changes of this entity.")
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    format: FormatQuery = None,
) -> ChangeList:
    """Every write in order, with its actor and the entity's state before and after. To
    sync, keep the highest `id` you have seen and ask again with `since=<id>`."""
    as_csv = wants_csv(request, format)
    position = decode_cursor(cursor, int)
    after = max(since, position[0]) if position else since
    rows = await service.list_changes(session, since=after, entity=entity, limit=limit)
    return list_response(
        request,
        response,
        rows,
        limit=limit,
        key=lambda c: (c.id,),
        page=ChangeList,
        as_csv=as_csv,
        columns=CHANGE_CSV,
    )
