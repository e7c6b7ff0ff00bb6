from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import JsonRecord
from app.http.lists import Page


class ChangeRead(BaseModel):
    """One write, as recorded: who changed which entity, and its state before and after."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1024,
                    "at": "2026-11-25T07:00:00Z",
                    "actor": "key_3f9a1c2b",
                    "entity": "feature_value",
                    "entity_key": "HK:regulatory_sandbox:2026-01-01",
                    "action": "create",
                    "before": None,
                    "after": {"value": True},
                }
            ]
        }
    )

    id: int = Field(description="Increasing; pass the last one seen as `since` to sync.")
    at: datetime
    actor: str = Field(description="The API key id, or `seed`/`cli` for local loads.")
    entity: str
    entity_key: str
    action: str = Field(description="create, update or delete.")
    before: JsonRecord = Field(description="The record before the change; null for a create.")
    after: JsonRecord = Field(description="The record after the change; null for a delete.")


class ChangeList(Page[ChangeRead]):
    """A page of the change feed, in id order."""


class DataVersionRead(BaseModel):
    """The data version: every write bumps it, in commit order."""

    version: int
    changed_at: datetime
