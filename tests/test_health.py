import asyncio

from httpx import ASGITransport, AsyncClient

from app.cli import migrate
from app.core.config import Settings
from app.core.db import Database
from app.main import create_app


async def test_healthz_needs_no_database(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_the_schema_revision(client: AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "revision": migrate.head_revision()}


async def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    # Nothing listens on port 1: the connection is refused at once.
    settings = Settings(
        env="test", database_url="postgresql://nobody@127.0.0.1:1/none", connect_timeout_s=2
    )
    assert settings.database_url is not None
    database = Database.connect(settings, settings.database_url)
    app = create_app(settings, database=database)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/readyz")
        listing = await client.get("/v1/jurisdictions")
    await database.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert listing.status_code == 503
    assert listing.json()["detail"] == "The database is unreachable; retry shortly."


async def test_readyz_is_503_when_the_schema_is_behind(scratch_database: str) -> None:
    await asyncio.to_thread(migrate.downgrade, scratch_database, "base")
    settings = Settings(env="test", database_url=scratch_database)
    database = Database.connect(settings, scratch_database)
    app = create_app(settings, database=database)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/readyz")
    await database.dispose()
    assert response.status_code == 503
    assert "juriscope db upgrade" in response.json()["detail"]


async def test_the_app_starts_and_stops_through_its_lifespan(settings: Settings) -> None:
    """The app as uvicorn runs it: the lifespan connects to DATABASE_URL and disposes of it
    (every middleware must let the lifespan messages through)."""
    from asgi_lifespan import LifespanManager

    app = create_app(settings.model_copy(update={"response_cache_entries": 8}))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://t") as client,
    ):
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/v1/jurisdictions?limit=1")).status_code == 200
