"""The response cache is keyed by the data version: never stale after a write, in any worker.

The version is pushed to each worker (LISTEN/NOTIFY, app/data_version.py), so a hit asks the
database nothing: the statements each app sends are counted on its engine.
"""

import asyncio
import gzip
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event

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


@asynccontextmanager
async def _worker(url: str, name: str) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """An app as a worker runs it: its own engine, its data-version listener started."""
    app, database = _app(url)
    async with AsyncClient(transport=ASGITransport(app=app), base_url=f"http://{name}") as client:
        app.state.data_version.start(database.engine)
        await _live(app)
        try:
            yield app, client
        finally:
            await app.state.data_version.close()
            await database.dispose()


async def _live(app: FastAPI) -> None:
    for _ in range(200):
        if app.state.data_version.live:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the data-version listener did not start")


@contextmanager
def _statements(app: FastAPI) -> Iterator[list[str]]:
    """Every statement `app` sends through its engine while the block runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


FEATURE_WRITE = {
    "value": False,
    "valid_from": "2024-01-01",
    "source_ids": ["qb-news-2024"],
    "confidence": "reported",
}


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


async def test_a_hit_asks_the_database_nothing_and_a_write_elsewhere_ends_it(world: str) -> None:
    key = await _key(world)
    url = "/v1/compare?jurisdictions=QA,QB&features=qq_retail"
    async with _worker(world, "a") as (_, a), _worker(world, "b") as (second, b):
        assert (await b.get(url)).headers["x-cache"] == "miss"
        with _statements(second) as statements:
            hits = [await b.get(url) for _ in range(3)]
        assert [hit.headers["x-cache"] for hit in hits] == ["hit", "hit", "hit"]
        assert statements == []

        write = await a.put(
            "/v1/jurisdictions/QA/features/qq_retail",
            json=FEATURE_WRITE,
            headers={"Authorization": f"Bearer {key}"},
        )
        assert write.status_code == 201

        # At once: the write's 201 went out after every worker had seen its version.
        after = await b.get(url)
        assert after.headers["x-cache"] == "miss"
        assert after.json()["features"][0]["values"]["QA"]["value"] is False
        with _statements(second) as statements:
            again = await b.get(url)
        assert again.headers["x-cache"] == "hit"
        assert again.content == after.content
        assert statements == []


async def test_a_revoked_key_never_gets_a_hit(world: str) -> None:
    from tests.keys.helpers import commit_api_key

    admin = await commit_api_key(world, "admin")
    reader = await commit_api_key(world, "write")
    url = "/v1/jurisdictions/QA"
    async with _worker(world, "a") as (_, a), _worker(world, "b") as (second, b):
        as_reader = {"Authorization": f"Bearer {reader}"}
        assert (await b.get(url, headers=as_reader)).headers["x-cache"] == "miss"
        with _statements(second) as statements:
            hit = await b.get(url, headers=as_reader)
        assert (hit.status_code, hit.headers["x-cache"], statements) == (200, "hit", [])

        reader_id = "key_" + reader.split("_")[1]
        revoked = await a.delete(
            f"/v1/keys/{reader_id}", headers={"Authorization": f"Bearer {admin}"}
        )
        assert revoked.status_code == 200
        refused = await b.get(url, headers=as_reader)
        assert refused.status_code == 401
        assert "x-cache" not in refused.headers


async def test_a_key_revoked_by_sql_is_forgotten_by_every_worker(world: str) -> None:
    from tests.conftest import _asyncpg_dsn
    from tests.keys.helpers import commit_api_key

    reader = await commit_api_key(world, "write")
    url = "/v1/jurisdictions/QA"
    async with _worker(world, "b") as (second, b):
        as_reader = {"Authorization": f"Bearer {reader}"}
        await b.get(url, headers=as_reader)
        assert (await b.get(url, headers=as_reader)).headers["x-cache"] == "hit"
        generation = second.state.data_version.key_generation
        connection = await asyncpg.connect(_asyncpg_dsn(world))
        try:
            await connection.execute("UPDATE api_key SET revoked_at = now()")
        finally:
            await connection.close()
        # No write went through the API, so nothing waited: the notification arrives soon.
        for _ in range(200):
            if second.state.data_version.key_generation != generation:
                break
            await asyncio.sleep(0.01)
        assert second.state.data_version.keys == {}
        assert (await b.get(url, headers=as_reader)).status_code == 401


async def test_a_hit_has_a_body_and_a_strong_etag_per_encoding(world: str) -> None:
    url = "/v1/compare?jurisdictions=QA,QB"
    as_gzip = {"Accept-Encoding": "gzip"}
    async with _worker(world, "b") as (second, b):
        miss = await b.get(url, headers={"Accept-Encoding": "identity"})
        plain = await b.get(url, headers={"Accept-Encoding": "identity"})
        # httpx decodes gzip: read the raw bytes to see what was sent.
        async with b.stream("GET", url, headers=as_gzip) as response:
            compressed = b"".join([chunk async for chunk in response.aiter_raw()])
            zipped_headers = response.headers
        assert (miss.headers["x-cache"], plain.headers["x-cache"]) == ("miss", "hit")
        assert zipped_headers["x-cache"] == "hit"
        assert zipped_headers["content-encoding"] == "gzip"
        assert "content-encoding" not in plain.headers
        assert gzip.decompress(compressed) == plain.content
        assert int(zipped_headers["content-length"]) == len(compressed)
        assert plain.headers["etag"].endswith('"')
        assert zipped_headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
        for header in ("vary", "cache-control", "x-content-type-options", "ratelimit"):
            assert zipped_headers[header] == plain.headers[header] or header == "ratelimit"
        assert plain.headers["vary"] == "Accept, Authorization, Accept-Encoding"

        with _statements(second) as statements:
            for tag in (plain.headers["etag"], zipped_headers["etag"]):
                for headers in (as_gzip, {"Accept-Encoding": "identity"}):
                    revalidated = await b.get(url, headers={**headers, "If-None-Match": tag})
                    assert revalidated.status_code == 304
                    assert revalidated.content == b""
            head = await b.head(url, headers=as_gzip)
        assert statements == []
        assert revalidated.headers["etag"] == plain.headers["etag"]
        assert (head.status_code, head.headers["x-cache"]) == (200, "hit")
        assert head.headers["etag"] == zipped_headers["etag"]
        assert head.headers["content-length"] == zipped_headers["content-length"]


async def test_a_lost_listener_resets_the_cache_and_listens_again(world: str) -> None:
    from tests.conftest import _asyncpg_dsn

    url = "/v1/jurisdictions/QA"
    async with _worker(world, "b") as (second, b):
        await b.get(url)
        assert (await b.get(url)).headers["x-cache"] == "hit"
        watcher = second.state.data_version
        resets = watcher.resets
        connection = await asyncpg.connect(_asyncpg_dsn(world))
        try:
            await connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'juriscope-cache' AND datname = current_database()"
            )
        finally:
            await connection.close()
        for _ in range(300):
            if watcher.resets > resets and watcher.live:
                break
            await asyncio.sleep(0.01)
        assert watcher.resets == resets + 1
        # Everything kept before the reset is gone: the next answer is made again.
        assert (await b.get(url)).headers["x-cache"] == "miss"
        assert (await b.get(url)).headers["x-cache"] == "hit"


async def test_a_cold_answer_is_made_once_for_concurrent_requests(world: str) -> None:
    url = "/v1/compare?jurisdictions=QA,QB"
    async with _worker(world, "b") as (second, b):
        responses = await asyncio.gather(*(b.get(url) for _ in range(5)))
        assert sorted(r.headers["x-cache"] for r in responses) == ["hit"] * 4 + ["miss"]
        assert len({r.content for r in responses}) == 1
        assert all("ratelimit" in r.headers for r in responses)
