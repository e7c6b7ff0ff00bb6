from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Scope = Literal["write", "admin"]


class KeyCreate(BaseModel):
    """A new API key: a name to recognise it by and its scopes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["research-team importer"])
    scopes: list[Scope] = Field(min_length=1, examples=[["write"]])


class KeyRead(BaseModel):
    """An API key as stored: never the key itself."""

    id: str = Field(examples=["key_3f9a1c2b"])
    name: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    key: str = Field(description="The secret key. Shown once: it is stored only as a hash.")


class Caller(BaseModel):
    """Who is calling: the key's id and scopes."""

    id: str
    scopes: list[str]
