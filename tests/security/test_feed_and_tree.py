"""The change feed never skips a committed change, concurrent imports never deadlock, and
no write can store a cycle in the jurisdiction tree (issue 20 findings 1, 3 and 4)."""

import asyncio
from collections import Counter
from typing import Any

from tests.security.conftest import Serve, World, bearer


def _observations(metric: str, years: range, value: float) -> dict[str, Any]:
    return {
        "observations": [
            {
                "jurisdiction_code": "QA",
                "metric_key": metric,
                "period": str(year),
                "value": value,
                "source_ids": ["qa-gazette-2021"],
                "confidence": "verified",
            }
            for year in years
        ]
    }


async def test_a_polling_client_sees_every_committed_change(world: World, serve: Serve) -> None:
    """A long import and short writes interleave while a client polls `since=<last id>`:
    every id it ever sees later must be above the last one it had (none skipped)."""
    async with serve(response_cache_entries=0) as client:
        first = (await client.get("/v1/changes?limit=500")).json()["items"]
        cursor = first[-1]["id"]
        seen: list[int] = []
        done = asyncio.Event()

        async def poll() -> None:
            nonlocal cursor
            while True:
                finished = done.is_set()
                page = (await client.get(f"/v1/changes?since={cursor}&limit=500")).json()
                for item in page["items"]:
                    assert item["id"] > cursor
                    seen.append(item["id"])
                    cursor = item["id"]
                if finished and not page["items"]:
                    return
                await asyncio.sleep(0.005)

        async def big_import() -> None:
            body = _observations("qq_firms", range(1000, 2000), 5)
            response = await client.post("/v1/imports", json=body, headers=bearer(world.admin_key))
            assert response.status_code == 200, response.text

        async def small_writes() -> None:
            for n in range(15):
                response = await client.patch(
                    "/v1/jurisdictions/QB", json={"name": f"B{n}"}, headers=bearer(world.write_key)
                )
                assert response.status_code == 200, response.text

        poller = asyncio.create_task(poll())
        await asyncio.gather(big_import(), small_writes())
        done.set()
        await poller
        everything = [
            c["id"]
            for c in (await client.get(f"/v1/changes?since={first[-1]['id']}&limit=500")).json()[
                "items"
            ]
        ]
        more = len(everything) == 500
        assert more or sorted(seen) == everything, "the poller missed committed changes"
        assert len(seen) == len(set(seen)) >= 1000 + 15


async def test_crossed_imports_do_not_deadlock(world: World, serve: Serve) -> None:
    """Two imports touching the same rows in opposite orders: both succeed, one after the
    other (never a 500)."""
    forward = {
        "jurisdictions": [
            {
                "code": "QA",
                "name": "Qland 1",
                "kind": "country",
                "region": "europe",
                "currency": "EUR",
            },
            {
                "code": "QB",
                "name": "Qbland 1",
                "kind": "country",
                "region": "europe",
                "currency": "EUR",
            },
        ]
    }
    backward = {"jurisdictions": list(reversed(forward["jurisdictions"]))}
    async with serve(response_cache_entries=0) as client:
        responses = await asyncio.gather(
            *(
                client.post("/v1/imports", json=body, headers=bearer(world.admin_key))
                for _ in range(4)
                for body in (forward, backward)
            )
        )
        assert {r.status_code for r in responses} <= {200, 503}, [r.text for r in responses]
        assert Counter(r.status_code for r in responses)[200] >= 1


async def test_two_crossed_reparentings_cannot_both_succeed(world: World, serve: Serve) -> None:
    base = {"kind": "special_zone", "region": "europe", "currency": "EUR", "regulators": []}
    async with serve(response_cache_entries=0) as client:
        auth = bearer(world.write_key)
        for code in ("QX", "QY"):
            created = await client.put(
                f"/v1/jurisdictions/{code}", json={**base, "name": code}, headers=auth
            )
            assert created.status_code == 201, created.text
        for _ in range(5):
            responses = await asyncio.gather(
                client.patch("/v1/jurisdictions/QX", json={"parent_code": "QY"}, headers=auth),
                client.patch("/v1/jurisdictions/QY", json={"parent_code": "QX"}, headers=auth),
            )
            statuses = sorted(r.status_code for r in responses)
            assert statuses[0] == 200 and statuses[1] in (409, 422), [r.text for r in responses]
            x = (await client.get("/v1/jurisdictions/QX")).json()["parent_code"]
            y = (await client.get("/v1/jurisdictions/QY")).json()["parent_code"]
            assert not (x == "QY" and y == "QX"), "a cycle was stored"
            for code in ("QX", "QY"):
                reset = await client.patch(
                    f"/v1/jurisdictions/{code}", json={"parent_code": None}, headers=auth
                )
                assert reset.status_code == 200, reset.text


async def test_sql_cannot_store_a_cycle_either(world: World) -> None:
    import asyncpg

    connection = await asyncpg.connect(world.url)
    try:
        await connection.execute(
            "UPDATE jurisdiction SET parent_id = (SELECT id FROM jurisdiction WHERE code = "
            "'QA-NORTH') WHERE code = 'QA'"
        )
    except asyncpg.IntegrityConstraintViolationError as error:
        assert "own ancestor" in str(error)
    else:
        raise AssertionError("the database accepted a cycle")
    finally:
        await connection.close()
