"""Hostile input is a clear 4xx problem, never a 500, and changes nothing (issue 10 findings
5, 6, 9 and 10; issue 20 findings 2, 6, 7, 8 and 9)."""

import csv
import io
import json
from typing import Any

import pytest
from httpx import Response

from tests.security.conftest import Serve, World, bearer

SCORES = "/v1/indices/qq_index/scores"


def _problem(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    "weights", ["qq_regime:1e308,qq_cgt:1e308", "qq_regime:inf", "qq_regime:1_0", "qq_regime:١٠"]
)
async def test_absurd_weights_in_scores_are_422(world: World, serve: Serve, weights: str) -> None:
    async with serve() as client:
        _problem(await client.get(SCORES, params={"weights": weights}), 422)


async def test_absurd_weights_in_a_scenario_are_422(world: World, serve: Serve) -> None:
    async with serve() as client:
        body = {
            "index": "qq_index",
            "jurisdiction": "QA",
            "overrides": {},
            "weights": {"qq_regime": 1e308, "qq_cgt": 1e308, "qq_firms": 1e308},
        }
        _problem(await client.post("/v1/scenarios/evaluate", json=body), 422)


async def test_a_huge_integer_anywhere_in_a_body_is_422(world: World, serve: Serve) -> None:
    huge = "1" + "0" * 400
    async with serve() as client:
        scenario = (
            '{"index": "qq_index", "jurisdiction": "QA", "overrides": {"qq_cgt": ' + huge + "}}"
        )
        _problem(
            await client.post(
                "/v1/scenarios/evaluate",
                content=scenario,
                headers={"content-type": "application/json"},
            ),
            422,
        )
        value = (
            '{"value": ' + huge + ', "valid_from": "2025-01-01", "source_ids": '
            '["qa-gazette-2021"], "confidence": "verified"}'
        )
        _problem(
            await client.put(
                "/v1/jurisdictions/QB/features/qq_cgt",
                content=value,
                headers={**bearer(world.write_key), "content-type": "application/json"},
            ),
            422,
        )


async def test_deep_nesting_and_duplicate_keys_are_422(world: World, serve: Serve) -> None:
    async with serve() as client:
        deep = "[" * 1000 + "]" * 1000
        body = _problem(
            await client.post(
                "/v1/imports",
                content='{"jurisdictions": ' + deep + "}",
                headers={**bearer(world.admin_key), "content-type": "application/json"},
            ),
            422,
        )
        assert "nested deeper" in body["detail"]
        body = _problem(
            await client.post(
                "/v1/keys",
                content='{"name": "x", "scopes": ["write"], "scopes": ["admin"]}',
                headers={**bearer(world.admin_key), "content-type": "application/json"},
            ),
            422,
        )
        assert "'scopes' appears twice" in body["detail"]


async def test_a_csv_cell_over_the_field_limit_is_422(world: World, serve: Serve) -> None:
    async with serve() as client:
        text = "id,publisher,title,url,kind\nqz-big,P," + "x" * 200_000 + ",https://e.org,law\n"
        response = await client.post(
            "/v1/imports?entity=sources",
            content=text,
            headers={**bearer(world.admin_key), "content-type": "text/csv"},
        )
        assert "field larger than field limit" in _problem(response, 422)["detail"]


@pytest.mark.parametrize("value", ["٢٠٢٤", "2024\n"])
async def test_non_ascii_digits_are_not_numbers(world: World, serve: Serve, value: str) -> None:
    async with serve() as client:
        response = await client.get("/v1/metrics/qq_firms/observations", params={"from": value})
        _problem(response, 422)


async def test_csv_exports_defuse_formulas(world: World, serve: Serve) -> None:
    async with serve() as client:
        body = {
            "publisher": "@SUM(1+1)",
            "title": '=HYPERLINK("http://evil.example","x")',
            "url": "https://example.org/evil",
            "kind": "article",
            "note": "-2+3",
        }
        put = await client.put("/v1/sources/qz-evil", json=body, headers=bearer(world.write_key))
        assert put.status_code == 201
        exported = await client.get("/v1/sources?format=csv&limit=500")
        row = next(r for r in csv.DictReader(io.StringIO(exported.text)) if r["id"] == "qz-evil")
        assert row["title"] == "'" + body["title"]
        assert row["publisher"] == "'@SUM(1+1)"
        assert row["note"] == "'-2+3"


async def test_a_value_the_index_cannot_score_is_refused_when_written(
    world: World, serve: Serve
) -> None:
    async with serve(response_cache_entries=0) as client:
        bad = {
            "observations": [
                {
                    "jurisdiction_code": "QB",
                    "period": "2025",
                    "value": -1,
                    "source_ids": ["qb-news-2024"],
                    "confidence": "reported",
                }
            ]
        }
        response = await client.post(
            "/v1/metrics/qq_firms/observations", json=bad, headers=bearer(world.write_key)
        )
        assert "log_minmax" in _problem(response, 422)["detail"]
        assert (await client.get(SCORES)).status_code == 200


async def test_stored_data_no_transform_takes_never_breaks_the_ranking(
    world: World, serve: Serve
) -> None:
    import asyncpg

    connection = await asyncpg.connect(world.url)
    try:
        await connection.execute(
            "UPDATE observation SET value = -1 WHERE metric_id = "
            "(SELECT id FROM metric WHERE key = 'qq_firms')"
        )
    finally:
        await connection.close()
    async with serve(response_cache_entries=0) as client:
        scores = await client.get(SCORES)
        assert scores.status_code == 200, scores.text
        index = (await client.get("/v1/indices/qq_index")).json()
        fields = ("kind", "key", "weight", "transform")
        body = {
            "name": index["name"],
            "methodology": index["methodology"],
            "components": [{k: c[k] for k in fields} for c in index["components"]],
        }
        redefined = await client.put(
            "/v1/indices/qq_index", json=body, headers=bearer(world.write_key)
        )
        assert "negative stored values" in _problem(redefined, 409)["detail"]


@pytest.mark.parametrize("spelling", ["QA\u00a0", "Q\u0391", "qa\u3000"])
async def test_non_ascii_spellings_of_a_code_are_not_that_code(
    world: World, serve: Serve, spelling: str
) -> None:
    async with serve() as client:
        response = await client.get(f"/v1/jurisdictions/{spelling}")
        assert response.status_code in (404, 422)


async def test_unicode_case_folding_does_not_create_an_ascii_resource(
    world: World, serve: Serve
) -> None:
    async with serve() as client:
        body = {"name": "Long s", "kind": "country", "region": "europe", "currency": "EUR"}
        response = await client.put(
            "/v1/jurisdictions/\u017fZ", json=body, headers=bearer(world.write_key)
        )
        assert response.status_code == 422
        assert (await client.get("/v1/jurisdictions/SZ")).status_code == 404
        kelvin = await client.get("/v1/features/qq_\u212a")
        assert kelvin.status_code in (404, 422)


async def test_an_encoded_slash_is_not_a_separator(world: World, serve: Serve) -> None:
    async with serve() as client:
        response = await client.get("/v1/jurisdictions/QA%2Ffeatures")
        _problem(response, 404)


async def test_gzip_with_q_zero_is_not_sent(world: World, serve: Serve) -> None:
    async with serve() as client:
        for header in ("gzip;q=0", "*;q=0, identity", "br"):
            response = await client.get("/openapi.json", headers={"Accept-Encoding": header})
            assert "content-encoding" not in response.headers, header
            json.loads(response.content)
        response = await client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert "accept-encoding" in response.headers["vary"].lower()


async def test_head_sends_exactly_gets_headers(world: World, serve: Serve) -> None:
    async with serve() as client:
        for encoding in ("gzip", "identity"):
            headers = {"Accept-Encoding": encoding}
            get = await client.get("/openapi.json", headers=headers)
            head = await client.head("/openapi.json", headers=headers)
            assert head.status_code == 200
            assert head.content == b""
            for name in ("content-length", "content-encoding", "etag", "vary", "content-type"):
                assert head.headers.get(name) == get.headers.get(name), (encoding, name)
        assert get.headers["content-length"] == str(len(get.content))
        big = {"summary": "A long summary. " * 100}
        await client.patch("/v1/jurisdictions/QA", json=big, headers=bearer(world.write_key))
        get = await client.get("/v1/jurisdictions/QA", headers={"Accept-Encoding": "gzip"})
        head = await client.head("/v1/jurisdictions/QA", headers={"Accept-Encoding": "gzip"})
        assert get.headers["content-encoding"] == "gzip"
        for name in ("content-length", "content-encoding", "etag", "vary", "cache-control"):
            assert head.headers.get(name) == get.headers.get(name), name


async def test_keys_are_never_stored_by_caches(world: World, serve: Serve) -> None:
    async with serve() as client:
        listed = await client.get("/v1/keys", headers=bearer(world.admin_key))
        assert listed.headers["cache-control"] == "no-store"
        created = await client.post(
            "/v1/keys", json={"name": "n", "scopes": ["write"]}, headers=bearer(world.admin_key)
        )
        assert created.status_code == 201
        assert created.headers["cache-control"] == "no-store"


async def test_readyz_reads_the_migrations_once_and_answers_from_memory(
    world: World, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import migrate

    calls = 0
    real = migrate.head_revision

    def counting() -> str | None:
        nonlocal calls
        calls += 1
        return real()

    # app.health calls the name it imported from the migrations runner.
    monkeypatch.setattr("app.health.head_revision", counting)
    async with serve() as client:
        for _ in range(50):
            assert (await client.get("/readyz")).status_code == 200
    assert calls == 1


async def test_deleting_a_jurisdiction_with_data_needs_cascade_and_admin(
    world: World, serve: Serve
) -> None:
    async with serve(response_cache_entries=0) as client:
        land = {"name": "Zland", "kind": "country", "region": "europe", "currency": "EUR"}
        value = {
            "value": True,
            "valid_from": "2025-01-01",
            "source_ids": ["qa-gazette-2021"],
            "confidence": "verified",
        }
        auth = bearer(world.write_key)
        assert (await client.put("/v1/jurisdictions/QZ", json=land, headers=auth)).is_success
        put = await client.put("/v1/jurisdictions/QZ/features/qq_retail", json=value, headers=auth)
        assert put.status_code == 201, put.text
        refused = await client.delete("/v1/jurisdictions/QZ", headers=bearer(world.write_key))
        assert "cascade=true" in _problem(refused, 409)["detail"]
        forbidden = await client.delete(
            "/v1/jurisdictions/QZ?cascade=true", headers=bearer(world.write_key)
        )
        _problem(forbidden, 403)
        since = (await client.get("/v1/changes?limit=500")).json()["items"][-1]["id"]
        done = await client.delete(
            "/v1/jurisdictions/QZ?cascade=true", headers=bearer(world.admin_key)
        )
        assert done.status_code == 204
        changes = (await client.get(f"/v1/changes?since={since}")).json()["items"]
        assert [(c["entity"], c["entity_key"], c["action"]) for c in changes] == [
            ("feature_value", "QZ:qq_retail", "delete"),
            ("jurisdiction", "QZ", "delete"),
        ]
