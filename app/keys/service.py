"""API keys: created with a high-entropy secret, stored as SHA-256, checked in constant time.

A key reads `jsk_<id>_<secret>`: the id finds the row, the hash of the whole key is compared.
"""

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import service as changes_service
from app.core.errors import NotFoundError
from app.keys.models import ApiKey
from app.keys.schemas import Caller, KeyCreated, KeyRead

PREFIX = "jsk"


class KeyNotFound(NotFoundError):
    def __init__(self, key_id: str) -> None:
        super().__init__(f"No API key with id {key_id!r}.")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_key(key: str) -> tuple[str, str] | None:
    """(public id, SHA-256 hex) of a key in our format `jsk_<id>_<secret>`, or None when it
    cannot be one. The one reader of the format: auth, the response cache and the rate
    limiter all use it."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    return f"key_{parts[1]}", _hash(key)


def as_read(row: ApiKey) -> KeyRead:
    return KeyRead(
        id=row.public_id,
        name=row.name,
        scopes=row.scopes,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


async def create_key(
    session: AsyncSession, *, name: str, scopes: list[str], actor: str
) -> KeyCreated:
    """Create a key; the secret is returned here and never again."""
    public_id = f"key_{secrets.token_hex(4)}"
    secret = f"{PREFIX}_{public_id.removeprefix('key_')}_{secrets.token_urlsafe(32)}"
    row = ApiKey(public_id=public_id, name=name, scopes=sorted(set(scopes)), hash=_hash(secret))
    session.add(row)
    await session.flush()
    await session.refresh(row)
    created = as_read(row)
    await changes_service.record_change(
        session,
        actor=actor,
        entity="api_key",
        entity_key=public_id,
        action="create",
        before=None,
        after=created.model_dump(mode="json"),
    )
    return KeyCreated(**created.model_dump(), key=secret)


async def revoke_key(session: AsyncSession, *, key_id: str, actor: str) -> KeyRead:
    """Revoke a key (idempotent); KeyNotFound if unknown."""
    row = await session.scalar(select(ApiKey).where(ApiKey.public_id == key_id))
    if row is None:
        raise KeyNotFound(key_id)
    before = as_read(row)
    if row.revoked_at is None:
        await session.execute(
            update(ApiKey).where(ApiKey.id == row.id).values(revoked_at=datetime.now(UTC))
        )
        await session.refresh(row)
        await changes_service.record_change(
            session,
            actor=actor,
            entity="api_key",
            entity_key=key_id,
            action="revoke",
            before=before.model_dump(mode="json"),
            after=as_read(row).model_dump(mode="json"),
        )
    return as_read(row)


async def authenticate(session: AsyncSession, key: str) -> Caller | None:
    """The caller a presented key stands for; None if unknown, malformed or revoked."""
    parsed = parse_key(key)
    if parsed is None:
        return None
    public_id, digest = parsed
    row = await session.scalar(select(ApiKey).where(ApiKey.public_id == public_id))
    if row is None or not hmac.compare_digest(row.hash, digest):
        return None
    if row.revoked_at is not None:
        return None
    return Caller(id=row.public_id, scopes=row.scopes)
