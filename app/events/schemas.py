from datetime import date

from pydantic import BaseModel, ConfigDict

from app.events.models import EventKind
from app.http.lists import Page


class EventRead(BaseModel):
    """A dated event of a jurisdiction's regulatory timeline."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "hk-2023-06-01-vatp-regime-effective",
                    "jurisdiction_code": "HK",
                    "date": "2023-06-01",
                    "kind": "law_effective",
                    "title": "SFC licensing regime for virtual-asset trading platforms in force",
                    "summary": None,
                    "source_ids": ["ifec-new-vatp-regime"],
                }
            ]
        }
    )

    id: str
    jurisdiction_code: str
    date: date
    kind: EventKind
    title: str
    summary: str | None
    source_ids: list[str]


EVENT_CSV = ("id", "jurisdiction_code", "date", "kind", "title", "summary", "source_ids")


class EventList(Page[EventRead]):
    """A page of events, ordered by date then id."""
