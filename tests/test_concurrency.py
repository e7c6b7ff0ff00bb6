"""Concurrent writes on committed data: each request its own connection and transaction, as
in production (a scratch database, no dependency overrides)."""

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.db import Database, async_url
from app.dataset import loader
from app.dataset.io import dataset_from_mapping
from app.main import create_app
from tests.dataset.sample import sample
from tests.keys.helpers import bearer, changes_since, commit_api_key

WRITERS = 16
HISTORY = "/v1/jurisdictions/QA/features/qq_retail"


@pytest.fixture
async def client(scratch_database: str) -> AsyncIterator[AsyncClient]:
    """A client of an app on a database holding the sample dataset, with a write key."""
    dataset, issues = dataset_from_mapping(sample())
    assert issues == []
    await loader.import_async(scratch_database, dataset, actor="t", dry_run=False)
    key = await commit_api_key(scratch_database, "write", name="concurrency")
    settings = Settings(
        env="test",
        database_url=scratch_database,
        rate_limit="100000/second",
        write_rate_limit="100000/second",
    )
    database = Database.connect(settings, scratch_database)
    app = create_app(settings, database=database)
    try:
        async with AsyncClient(
            transport=ASGITransport(app=app), base_url="http://test", headers=bearer(key)
        ) as client:
            yield client
    finally:
        await database.dispose()


def _value(v: bool, valid_from: date) -> dict[str, Any]:
    return {
        "value": v,
        "valid_from": valid_from.isoformat(),
        "source_ids": ["qa-gazette-2021"],
        "confidence": "verified",
    }


async def _last_change(client: AsyncClient) -> int:
    changes = await changes_since(client, 0)
    return int(changes[-1]["id"])


def _statuses(responses: list[Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


class TestConcurrentFeatureValues:
    async def test_different_dates_keep_one_consistent_history(self, client: AsyncClient) -> None:
        since = await _last_change(client)
        starts = [date(2022 + i // 12, i % 12 + 1, 1) for i in range(WRITERS)]
        random.Random(20261125).shuffle(starts)

        responses = await asyncio.gather(
            *(client.put(HISTORY, json=_value(i % 2 == 0, start)) for i, start in enumerate(starts))
        )

        statuses = _statuses(responses)
        assert set(statuses) <= {201, 409}, [r.text for r in responses if r.status_code >= 500]
        assert statuses[201] >= 1
        history = (await client.get(HISTORY)).json()["history"]
        assert len(history) == 1 + statuses[201]
        assert [v["valid_to"] for v in history].count(None) == 1
        assert history[-1]["valid_to"] is None
        for before, after in zip(history, history[1:], strict=False):
            assert before["valid_to"] == after["valid_from"]
        created = {r.json()["history"][-1]["valid_from"] for r in responses if r.status_code == 201}
        assert {v["valid_from"] for v in history[1:]} == created
        changes = [c for c in await changes_since(client, since) if c["entity"] == "feature_value"]
        assert len(changes) == statuses[201]

    async def test_identical_puts_open_one_interval(self, client: AsyncClient) -> None:
        since = await _last_change(client)
        body = _value(False, date(2030, 1, 1))

        responses = await asyncio.gather(*(client.put(HISTORY, json=body) for _ in range(WRITERS)))

        assert _statuses(responses) == {201: 1, 200: WRITERS - 1}
        history = (await client.get(HISTORY)).json()["history"]
        assert [(v["value"], v["valid_from"], v["valid_to"]) for v in history] == [
            (True, "2021-06-01", "2030-01-01"),
            (False, "2030-01-01", None),
        ]
        assert len(await changes_since(client, since)) == 1


class TestConcurrentCreates:
    async def test_one_event_id_is_created_once(self, client: AsyncClient) -> None:
        since = await _last_change(client)
        event = {
            "id": "qa-2025-race",
            "jurisdiction_code": "QA",
            "date": "2025-01-01",
            "kind": "policy_announcement",
            "title": "Announced",
            "source_ids": ["qa-gazette-2021"],
        }

        responses = await asyncio.gather(*(client.post("/v1/events", json=event) for _ in range(8)))

        assert _statuses(responses) == {201: 1, 409: 7}
        assert {r.headers["content-type"] for r in responses if r.status_code == 409} == {
            "application/problem+json"
        }
        assert [c["entity_key"] for c in await changes_since(client, since)] == ["qa-2025-race"]

    async def test_a_new_source_put_at_once_is_created_once(self, client: AsyncClient) -> None:
        since = await _last_change(client)
        source = {"publisher": "Qland Gazette", "title": "Budget", "kind": "law"}

        responses = await asyncio.gather(
            *(client.put("/v1/sources/qa-race", json=source) for _ in range(8))
        )

        statuses = _statuses(responses)
        assert statuses[201] == 1
        assert set(statuses) <= {200, 201, 409}
        assert (await client.get("/v1/sources/qa-race")).json()["title"] == "Budget"
        assert [c["entity_key"] for c in await changes_since(client, since)] == ["qa-race"]


async def _until_one_waits_for_a_lock(observer: Any) -> None:
    for _ in range(100):
        waiting = await observer.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        await observer.rollback()
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the second transaction never waited for the first")


class TestDefinitionRacingAValue:
    async def test_one_of_them_is_refused(self, scratch_database: str) -> None:
        dataset, _ = dataset_from_mapping(sample())
        await loader.import_async(scratch_database, dataset, actor="t", dry_run=False)
        mode = {
            "key": "qq_mode",
            "name": "Mode",
            "category": "licensing",
            "value_type": "enum",
            "allowed_values": [
                {"value": "open", "label": "Open", "score": 1},
                {"value": "closed", "label": "Closed", "score": 0},
            ],
        }
        defined, _ = dataset_from_mapping({"features": [mode]})
        await loader.import_async(scratch_database, defined, actor="t", dry_run=False)
        value, _ = dataset_from_mapping(
            {
                "feature_values": [
                    {
                        "jurisdiction_code": "QA",
                        "feature_key": "qq_mode",
                        "value": "closed",
                        "valid_from": "2024-01-01",
                        "source_ids": ["qa-gazette-2021"],
                        "confidence": "verified",
                    }
                ]
            }
        )
        narrowed, _ = dataset_from_mapping(
            {"features": [{**mode, "allowed_values": mode["allowed_values"][:1]}]}
        )
        engine = create_async_engine(async_url(scratch_database), poolclass=NullPool)
        factory = async_sessionmaker(engine, expire_on_commit=False)
        try:
            async with factory() as writer, factory() as redefiner, factory() as observer:
                await loader.apply_dataset(writer, value, actor="writer")
                # The redefinition checks the stored values now, then waits for the writer.
                redefining = asyncio.create_task(
                    loader.apply_dataset(redefiner, narrowed, actor="redefiner")
                )
                await _until_one_waits_for_a_lock(observer)
                await writer.commit()
                try:
                    await redefining
                    await redefiner.commit()
                    outcome = "both committed"
                except Exception as error:  # a refusal keeps the data sound
                    outcome = f"redefinition refused: {error!r}"
                    await redefiner.rollback()
            stored = await loader.export_async(scratch_database)
        finally:
            await engine.dispose()
        [feature] = [f for f in stored.features if f.key == "qq_mode"]
        values = [v.value for v in stored.feature_values if v.feature_key == "qq_mode"]
        allowed = [option.value for option in feature.allowed_values or []]
        assert set(values) <= set(allowed), outcome
