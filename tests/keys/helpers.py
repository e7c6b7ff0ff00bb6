"""Shared by the write tests: API keys, auth headers, the change feed, and apps built with
settings of their own on the test's session (the same way as the `app` fixture)."""

from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from app.changes.models import Change
from app.core.config import Settings
from app.core.db import Database, async_url, get_read_session, get_session
from app.keys import service as keys_service
from app.keys.schemas import KeyCreated
from app.main import create_app

KEY_PATTERN = r"^jsk_[0-9a-f]{8}_\S+$"


async def create_api_key(session: AsyncSession, *scopes: str, name: str = "test key") -> KeyCreated:
    """A key with `scopes`, flushed in the test's session (so the app sees it)."""
    return await keys_service.create_key(session, name=name, scopes=list(scopes), actor="test")


async def commit_api_key(url: str, *scopes: str, name: str = "test key") -> str:
    """A key committed in the database at `url` (for apps without the test's session);
    returns the secret."""
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            created = await keys_service.create_key(
                session, name=name, scopes=list(scopes), actor="test"
            )
            await session.commit()
    finally:
        await engine.dispose()
    return created.key


def bearer(key: KeyCreated | str) -> dict[str, str]:
    secret = key.key if isinstance(key, KeyCreated) else key
    return {"Authorization": f"Bearer {secret}"}


async def last_change_id(session: AsyncSession) -> int:
    """The id of the newest change record: what a client syncing the feed remembers."""
    return int(await session.scalar(select(func.coalesce(func.max(Change.id), 0))) or 0)


async def changes_since(
    client: AsyncClient, since: int, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every change record after `since`, through the feed (as the caller `headers` name),
    following its pages."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"since": since, "limit": 500}
    while True:
        response = await client.get("/v1/changes", params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        if body["next_cursor"] is None:
            return items
        params["cursor"] = body["next_cursor"]


def settings_for(settings: Settings, **overrides: Any) -> Settings:
    """The test settings with some values changed (validated like the real ones)."""
    return Settings(**{**settings.model_dump(), **overrides})


def build_app(settings: Settings, engine: AsyncEngine, session: AsyncSession) -> FastAPI:
    """An app with `settings` whose requests are savepoints of the test's session, as in the
    `app` fixture of conftest.py."""
    factory = async_sessionmaker(engine, expire_on_commit=False)
    application = create_app(
        settings,
        database=Database(
            engine=engine, read_engine=engine, sessionmaker=factory, read_sessionmaker=factory
        ),
    )

    async def _session() -> AsyncIterator[AsyncSession]:
        request_transaction = await session.begin_nested()
        try:
            yield session
        except BaseException:
            await request_transaction.rollback()
            raise
        else:
            await request_transaction.commit()

    application.dependency_overrides[get_session] = _session
    application.dependency_overrides[get_read_session] = _session
    return application


async def assert_read_matches(client: AsyncClient, path: str, written: Response) -> None:
    """A GET of `path` shows what the write answered, with the same ETag."""
    read = await client.get(path)
    assert read.json() == written.json()
    assert read.headers["etag"] == written.headers["etag"]


async def assert_created(
    client: AsyncClient, since: int, *, actor: str, entity: str, entity_key: str, after: Any
) -> None:
    """Exactly one change record since `since`: the creation of `entity_key` by `actor`."""
    [change] = await changes_since(client, since)
    assert {k: change[k] for k in ("actor", "entity", "entity_key", "action", "before")} == {
        "actor": actor,
        "entity": entity,
        "entity_key": entity_key,
        "action": "create",
        "before": None,
    }
    assert change["after"] == after
