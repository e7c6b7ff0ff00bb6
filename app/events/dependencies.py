"""Query parameters of the event timelines (GET /v1/events and a jurisdiction's events)."""

from typing import Annotated

from fastapi import Query

from app.events.models import EventKind

EventKindQuery = Annotated[
    list[EventKind] | None, Query(description="Only these kinds (repeatable).")
]
