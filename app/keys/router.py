"""API keys over HTTP (scope `admin`)."""

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import select

from app.core.errors import error_responses
from app.http.auth import AdminKey
from app.http.dependencies import SessionDep
from app.http.lists import Page
from app.keys import service
from app.keys.models import ApiKey
from app.keys.schemas import KeyCreate, KeyCreated, KeyRead

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class KeyList(Page[KeyRead]):
    """Every API key, newest first (never the secrets)."""


@router.get(
    "",
    operation_id="listKeys",
    summary="List API keys",
    response_model=KeyList,
    responses=error_responses(401, 403, 429, 503),
)
async def list_keys(session: SessionDep, caller: AdminKey) -> KeyList:
    """Every key with its scopes and whether it is revoked."""
    rows = await session.scalars(select(ApiKey).order_by(ApiKey.id.desc()))
    return KeyList(items=[service.as_read(row) for row in rows], next_cursor=None)


@router.post(
    "",
    operation_id="createKey",
    summary="Create an API key",
    response_model=KeyCreated,
    status_code=201,
    responses=error_responses(400, 401, 403, 413, 422, 429, 503),
)
async def create_key(body: KeyCreate, session: SessionDep, caller: AdminKey) -> KeyCreated:
    """Create a key. The response holds the secret `key`, shown this once: only its SHA-256
    is stored."""
    return await service.create_key(
        session, name=body.name, scopes=list(body.scopes), actor=caller.id
    )


@router.delete(
    "/{id}",
    operation_id="revokeKey",
    summary="Revoke an API key",
    response_model=KeyRead,
    responses=error_responses(401, 403, 404, 422, 429, 503),
)
async def revoke_key(
    id: Annotated[str, Path(pattern=r"^key_[0-9a-f]{8}$", examples=["key_3f9a1c2b"])],
    session: SessionDep,
    caller: AdminKey,
) -> KeyRead:
    """Revoke a key at once (idempotent); it is kept, marked revoked."""
    return await service.revoke_key(session, key_id=id, actor=caller.id)
