"""Test fixtures: one real PostgreSQL per run, migrated once, each test isolated.

Isolation: every test runs inside an outer transaction on one connection that is rolled back
at the end; the app's session joins it with `create_savepoint`, so the app's own commit only
releases a savepoint. This is fast (no schema rebuilds) and leaves the seeded data untouched.
Tests that need committed data across connections (a real uvicorn, concurrency, an outage)
take `scratch_database`: a new database cloned from the migrated template.
"""

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.cli import migrate
from app.core.config import Settings
from app.core.db import Database, create_engine, get_read_session, get_session
from app.dataset import loader
from app.main import create_app

TEMPLATE = "juriscope_test_template"


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(_with_database(url, "postgres")))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server: TEST_DATABASE_URL's, or an embedded one for this run."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    from app.cli.embedded import embedded_database

    with (
        tempfile.TemporaryDirectory(prefix="juriscope-test-") as data_dir,
        embedded_database(Path(data_dir), database="postgres") as url,
    ):
        yield url


@pytest.fixture(scope="session")
async def template_url(server_url: str) -> AsyncIterator[str]:
    """A database migrated to head, used as the template of every scratch database."""
    name = f"{TEMPLATE}_{os.getpid()}"
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    url = _with_database(server_url, name)
    await asyncio.to_thread(migrate.upgrade, url)
    yield url
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def database_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    """The shared test database: migrated and loaded with the bundled dataset."""
    name = f"juriscope_test_{os.getpid()}"
    await _admin(
        server_url,
        f'DROP DATABASE IF EXISTS "{name}"',
        f'CREATE DATABASE "{name}" TEMPLATE "{template_url.rsplit("/", 1)[-1].split("?")[0]}"',
    )
    url = _with_database(server_url, name)
    await loader.seed_async(url)
    yield url
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def scratch_database(server_url: str, template_url: str) -> AsyncIterator[str]:
    """A fresh, empty, migrated database of this test's own (committed writes are fine)."""
    name = f"juriscope_scratch_{uuid.uuid4().hex[:12]}"
    template = make_url(template_url).database
    await _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _with_database(server_url, name)
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # The response cache reads the data version on a connection of its own, which cannot see
    # a test's uncommitted data: it is off here, and tested on committed data in
    # tests/test_cache.py.
    return Settings(
        env="test",
        database_url=database_url,
        rate_limit="100000/second",
        write_rate_limit="100000/second",
        response_cache_entries=0,
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings, database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings, database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session inside the test's outer transaction (what the app sees too)."""
    factory = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    async with factory() as session:
        yield session


@pytest.fixture
async def app(settings: Settings, engine: AsyncEngine, session: AsyncSession):  # type: ignore[no-untyped-def]
    factory = async_sessionmaker(engine, expire_on_commit=False)
    application = create_app(
        settings,
        database=Database(
            engine=engine, read_engine=engine, sessionmaker=factory, read_sessionmaker=factory
        ),
    )

    async def _session() -> AsyncIterator[AsyncSession]:
        # Each request is a savepoint: a failed request rolls back its own work only, never
        # the data the test set up before it.
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


@pytest.fixture
async def client(app) -> AsyncIterator[AsyncClient]:  # type: ignore[no-untyped-def]
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client
