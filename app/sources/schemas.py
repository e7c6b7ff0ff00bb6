from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.core.records import body_model
from app.http.lists import Page
from app.sources.models import SourceKind
from app.sources.records import SourceRecord


class SourceRead(BaseModel):
    """Where a value comes from: a law, a regulator's page, a dataset, a report, an article."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "mas-stablecoin-framework-2023",
                    "publisher": "Monetary Authority of Singapore",
                    "title": "MAS Finalises Stablecoin Regulatory Framework",
                    "url": "https://www.mas.gov.sg/news/media-releases/2023/"
                    "mas-finalises-stablecoin-regulatory-framework",
                    "published_on": "2023-08-15",
                    "accessed_on": "2026-11-24",
                    "kind": "regulator",
                    "note": "Primary source (P).",
                }
            ]
        }
    )

    id: str
    publisher: str
    title: str
    url: str | None
    published_on: date | None
    accessed_on: date | None
    kind: SourceKind
    note: str | None = Field(description="Reliability and caveats, e.g. a second-hand figure.")


class SourceList(Page[SourceRead]):
    """A page of sources, ordered by id."""


SourceWrite = body_model(
    SourceRecord,
    "SourceWrite",
    drop="id",
    doc="A source to create or replace (the id is in the path).",
)
