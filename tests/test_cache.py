"""The response cache is keyed by the data version: never stale after a write, in any worker."""

import pytest
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.core.db import Database
from app.dataset import loader
from app.dataset.io import dataset_from_mapping
from app.keys import service as keys_service
from app.main import create_app
from tests.dataset.sample import sample


@pytest.fixture
async def world(scratch_database: str) -> str:
    dataset, _ = dataset_from_mapping(sample())
    await loader.import_async(scratch_database, dataset, actor="t", dry_run=False)
    return scratch_database


async def _key(url: str) -> str:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    database = Database.connect(Settings(env="test", database_url=url), url)
    async with async_sessionmaker(database.engine)() as session:
        created = await keys_service.create_key(session, name="t", scopes=["write"], actor="t")
        await session.commit()
    await database.dispose()
    return created.key


def _app(url: str) -> tuple:  # type: ignore[type-arg]
    settings = Settings(env="test", database_url=url, response_cache_entries=64)
    database = Database.connect(settings, url)
    return create_app(settings, database=database), database


async def test_a_write_in_one_worker_is_seen_by_another(world: str) -> None:
    key = await _key(world)
    (first, first_db), (second, second_db) = _app(world), _app(world)
    url = "/v1/compare?jurisdictions=QA,QB&features=qq_retail"
    async with (
        AsyncClient(transport=ASGITransport(app=first), base_url="http://a") as a,
        AsyncClient(transport=ASGITransport(app=second), base_url="http://b") as b,
    ):
        cold = await b.get(url)
        warm = await b.get(url)
        assert (cold.headers["x-cache"], warm.headers["x-cache"]) == ("miss", "hit")
        assert warm.content == cold.content
        assert warm.json()["features"][0]["values"]["QA"]["value"] is True

        write = await a.put(
            "/v1/jurisdictions/QA/features/qq_retail",
            json={
                "value": False,
                "valid_from": "2024-01-01",
                "source_ids": ["qb-news-2024"],
                "confidence": "reported",
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        assert write.status_code == 201

        after = await b.get(url)
        assert after.headers["x-cache"] == "miss"
        assert after.json()["features"][0]["values"]["QA"]["value"] is False
        assert after.headers["etag"] != cold.headers["etag"]
        revalidated = await b.get(url, headers={"If-None-Match": cold.headers["etag"]})
        assert revalidated.status_code == 200
    await first_db.dispose()
    await second_db.dispose()


async def test_keys_and_private_reads_are_never_cached(world: str) -> None:
    settings = Settings(
        env="test", database_url=world, response_cache_entries=64, public_read=False
    )
    database = Database.connect(settings, world)
    app = create_app(settings, database=database)
    key = await _key(world)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        for _ in range(2):
            response = await client.get(
                "/v1/jurisdictions", headers={"Authorization": f"Bearer {key}"}
            )
            assert response.status_code == 200
            assert "x-cache" not in response.headers
        assert (await client.get("/v1/jurisdictions")).status_code == 401
    await database.dispose()


async def test_the_api_index_is_cached_until_a_write(world: str) -> None:
    key = await _key(world)
    app, database = _app(world)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        cold, warm = await client.get("/v1"), await client.get("/v1")
        assert (cold.headers["x-cache"], warm.headers["x-cache"]) == ("miss", "hit")
        assert warm.content == cold.content
        write = await client.put(
            "/v1/sources/zz-cache",
            json={"publisher": "P", "title": "T", "kind": "law"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert write.status_code == 201
        after = await client.get("/v1")
        assert after.headers["x-cache"] == "miss"
        assert after.json()["data_version"] == cold.json()["data_version"] + 1
        assert after.headers["etag"] != cold.headers["etag"]
    await database.dispose()
