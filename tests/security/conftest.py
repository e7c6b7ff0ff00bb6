"""Attacks on a running app over committed data: each request its own connection and
transaction, as in production (a scratch database holding the sample dataset)."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.core.db import Database
from app.dataset import loader
from app.dataset.io import dataset_from_mapping
from app.main import create_app
from tests.dataset.sample import sample
from tests.keys.helpers import commit_api_key


@dataclass
class World:
    url: str
    write_key: str
    admin_key: str


@pytest.fixture
async def world(scratch_database: str) -> World:
    dataset, issues = dataset_from_mapping(sample())
    assert issues == []
    await loader.import_async(scratch_database, dataset, actor="t", dry_run=False)
    return World(
        url=scratch_database,
        write_key=await commit_api_key(scratch_database, "write", name="writer"),
        admin_key=await commit_api_key(scratch_database, "admin", name="admin"),
    )


Serve = Callable[..., Any]


@pytest.fixture
def serve(world: World) -> Serve:
    """`async with serve(**settings) as client`: an app of its own on the world's database."""

    @asynccontextmanager
    async def _serve(**overrides: Any) -> AsyncIterator[AsyncClient]:
        settings = Settings(
            **{
                "env": "test",
                "database_url": world.url,
                "rate_limit": "100000/second",
                "write_rate_limit": "100000/second",
                "response_cache_entries": 64,
                **overrides,
            }
        )
        database = Database.connect(settings, world.url)
        app = create_app(settings, database=database)
        try:
            async with AsyncClient(
                transport=ASGITransport(app=app), base_url="http://test"
            ) as client:
                yield client
        finally:
            await database.dispose()

    return _serve


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
