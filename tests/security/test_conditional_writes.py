"""Conditional writes are atomic for every entity, and follow RFC 9110 (issue 10 finding 2,
issue 20 finding 5): of N writers sending the same current ETag exactly one wins."""

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.dataset.sample import sample
from tests.security.conftest import Serve, World, bearer

WRITERS = 10
SAMPLE = sample()


def _strip(record: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in names}


# (path, the body of the n-th writer): each writer changes the resource differently.
ENTITIES: dict[str, tuple[str, Callable[[int], dict[str, Any]]]] = {
    "jurisdiction": (
        "/v1/jurisdictions/QB",
        lambda n: {**_strip(SAMPLE["jurisdictions"][2], "code"), "name": f"Writer {n}"},
    ),
    "source": (
        "/v1/sources/qb-news-2024",
        lambda n: {**_strip(SAMPLE["sources"][1], "id"), "title": f"Writer {n}"},
    ),
    "feature": (
        "/v1/features/qq_retail",
        lambda n: {**_strip(SAMPLE["features"][0], "key"), "name": f"Writer {n}"},
    ),
    "metric": (
        "/v1/metrics/qq_firms",
        lambda n: {**_strip(SAMPLE["metrics"][0], "key"), "name": f"Writer {n}"},
    ),
    "index": (
        "/v1/indices/qq_index",
        lambda n: {**_strip(SAMPLE["indices"][0], "key"), "name": f"Writer {n}"},
    ),
}


@pytest.mark.parametrize("entity", sorted(ENTITIES))
async def test_one_of_n_writers_with_one_etag_wins(world: World, serve: Serve, entity: str) -> None:
    path, body = ENTITIES[entity]
    async with serve(response_cache_entries=0) as client:
        etag = (await client.get(path)).headers["etag"]
        since = (await client.get("/v1/changes?limit=500")).json()["items"][-1]["id"]
        responses = await asyncio.gather(
            *(
                client.put(
                    path, json=body(n), headers={**bearer(world.write_key), "If-Match": etag}
                )
                for n in range(WRITERS)
            )
        )
        statuses = Counter(r.status_code for r in responses)
        assert statuses == Counter({200: 1, 412: WRITERS - 1}), [r.text for r in responses]
        changes = (await client.get(f"/v1/changes?since={since}&limit=500")).json()["items"]
        assert len(changes) == 1, "one change record per winning write"
        winner = next(r for r in responses if r.status_code == 200)
        assert (await client.get(path)).json() == winner.json()


async def test_patch_is_atomic_too(world: World, serve: Serve) -> None:
    async with serve(response_cache_entries=0) as client:
        etag = (await client.get("/v1/jurisdictions/QB")).headers["etag"]
        responses = await asyncio.gather(
            *(
                client.patch(
                    "/v1/jurisdictions/QB",
                    json={"name": f"Writer {n}"},
                    headers={**bearer(world.write_key), "If-Match": etag},
                )
                for n in range(WRITERS)
            )
        )
        assert Counter(r.status_code for r in responses) == Counter({200: 1, 412: WRITERS - 1})


async def test_if_none_match_star_refuses_to_replace(world: World, serve: Serve) -> None:
    path, body = ENTITIES["source"]
    async with serve() as client:
        headers = {**bearer(world.write_key), "If-None-Match": "*"}
        existing = await client.put(path, json=body(1), headers=headers)
        assert existing.status_code == 412
        assert existing.headers["content-type"] == "application/problem+json"
        assert (await client.get(path)).json()["title"] == SAMPLE["sources"][1]["title"]
        created = await client.put("/v1/sources/qz-new", json=body(2), headers=headers)
        assert created.status_code == 201


async def test_a_weak_tag_never_matches(world: World, serve: Serve) -> None:
    path, body = ENTITIES["jurisdiction"]
    async with serve(response_cache_entries=0) as client:
        etag = (await client.get(path)).headers["etag"]
        weak = await client.put(
            path, json=body(1), headers={**bearer(world.write_key), "If-Match": f"W/{etag}"}
        )
        assert weak.status_code == 412
        strong = await client.put(
            path, json=body(1), headers={**bearer(world.write_key), "If-Match": etag}
        )
        assert strong.status_code == 200


async def test_the_gzip_spelling_of_the_current_tag_matches(world: World, serve: Serve) -> None:
    async with serve(response_cache_entries=0) as client:
        long = {"summary": "A long summary. " * 100}
        await client.patch("/v1/jurisdictions/QA", json=long, headers=bearer(world.write_key))
        read = await client.get("/v1/jurisdictions/QA", headers={"Accept-Encoding": "gzip"})
        assert read.headers["content-encoding"] == "gzip"
        assert read.headers["etag"].endswith('-gzip"')
        identity = await client.get("/v1/jurisdictions/QA", headers={"Accept-Encoding": "identity"})
        assert identity.headers["etag"] == read.headers["etag"].replace('-gzip"', '"')
        patched = await client.patch(
            "/v1/jurisdictions/QA",
            json={"name": "Renamed"},
            headers={**bearer(world.write_key), "If-Match": read.headers["etag"]},
        )
        assert patched.status_code == 200


async def test_observations_honour_if_match_against_the_metric(world: World, serve: Serve) -> None:
    batch = {
        "observations": [
            {
                "jurisdiction_code": "QB",
                "period": "2025",
                "value": 4,
                "source_ids": ["qb-news-2024"],
                "confidence": "reported",
            }
        ]
    }
    async with serve(response_cache_entries=0) as client:
        stale = await client.post(
            "/v1/metrics/qq_firms/observations",
            json=batch,
            headers={**bearer(world.write_key), "If-Match": '"stale"'},
        )
        assert stale.status_code == 412
        rows = (await client.get("/v1/metrics/qq_firms/observations?jurisdictions=QB")).json()
        assert rows["items"] == []
        etag = (await client.get("/v1/metrics/qq_firms")).headers["etag"]
        fresh = await client.post(
            "/v1/metrics/qq_firms/observations",
            json=batch,
            headers={**bearer(world.write_key), "If-Match": etag},
        )
        assert fresh.status_code == 200, fresh.text
