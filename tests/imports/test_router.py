"""POST /v1/imports: a dataset in the bundled format, JSON or CSV, all or nothing."""

from collections import Counter
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes.models import Change
from app.keys.schemas import KeyCreated
from tests.dataset.sample import sample
from tests.factories import (
    create_jurisdiction,
    create_metric,
    create_regulator,
    create_source,
)
from tests.keys.helpers import bearer, changes_since, create_api_key, last_change_id
from tests.test_errors import assert_problem

CREATED = {
    "sources": {"created": 2, "updated": 0, "unchanged": 0},
    "jurisdictions": {"created": 3, "updated": 0, "unchanged": 0},
    "features": {"created": 3, "updated": 0, "unchanged": 0},
    "metrics": {"created": 2, "updated": 0, "unchanged": 0},
    "feature_values": {"created": 4, "updated": 0, "unchanged": 0},
    "observations": {"created": 3, "updated": 0, "unchanged": 0},
    "events": {"created": 1, "updated": 0, "unchanged": 0},
    "indices": {"created": 1, "updated": 0, "unchanged": 0},
}
CSV_HEADER = "jurisdiction_code,metric_key,period,value,counterpart_code,source_ids,confidence,note"


@pytest.fixture
async def admin(session: AsyncSession) -> KeyCreated:
    return await create_api_key(session, "admin")


@pytest.fixture
def auth(admin: KeyCreated) -> dict[str, str]:
    return bearer(admin)


async def _nothing_written(client: AsyncClient, since: int) -> None:
    assert_problem(await client.get("/v1/jurisdictions/QA"), 404)
    assert_problem(await client.get("/v1/sources/qa-gazette-2021"), 404)
    assert await changes_since(client, since) == []


class TestImportJson:
    async def test_dry_run_reports_and_writes_nothing(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        response = await client.post(
            "/v1/imports", params={"dry_run": "true"}, json=sample(), headers=auth
        )
        assert response.status_code == 200
        assert response.json() == {
            "dry_run": True,
            "valid": True,
            "counts": CREATED,
            "issues": [],
        }
        await _nothing_written(client, since)

    async def test_creates_everything_with_one_change_per_record_or_history(
        self, client: AsyncClient, session: AsyncSession, admin: KeyCreated, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        response = await client.post("/v1/imports", json=sample(), headers=auth)
        assert response.status_code == 200
        assert response.json() == {"dry_run": False, "valid": True, "counts": CREATED, "issues": []}

        profile = (await client.get("/v1/jurisdictions/QA")).json()
        assert (profile["name"], profile["children"]) == ("Qland", ["QA-NORTH"])
        assert [r["id"] for r in profile["regulators"]] == ["qa-vaa"]
        history = (await client.get("/v1/jurisdictions/QA/features/qq_regime")).json()["history"]
        assert [(v["value"], v["valid_from"], v["valid_to"]) for v in history] == [
            ("none", "2015-01-01", "2021-06-01"),
            ("licence", "2021-06-01", None),
        ]
        flows = (await client.get("/v1/metrics/qq_flow/observations")).json()["items"]
        assert [(o["jurisdiction_code"], o["counterpart_code"], o["value"]) for o in flows] == [
            ("QA", "QB", 45.0)
        ]
        index = (await client.get("/v1/indices/qq_index")).json()
        assert [c["key"] for c in index["components"]] == ["qq_regime", "qq_cgt", "qq_firms"]
        assert (await client.get("/v1/events", params={"jurisdictions": "QA"})).json()["items"][0][
            "id"
        ] == "qa-2021-06-01-act"

        changes = await changes_since(client, since)
        assert {c["actor"] for c in changes} == {admin.id}
        assert {c["action"] for c in changes} == {"create"}
        # A feature's history in one jurisdiction is one change: QA's two qq_regime intervals.
        assert Counter(c["entity"] for c in changes) == {
            "source": 2,
            "jurisdiction": 3,
            "feature": 3,
            "metric": 2,
            "feature_value": 3,
            "observation": 3,
            "event": 1,
            "index": 1,
        }
        [regime] = [c for c in changes if c["entity_key"] == "QA:qq_regime"]
        assert [v["valid_from"] for v in regime["after"]] == ["2015-01-01", "2021-06-01"]

    async def test_importing_again_changes_nothing(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.post("/v1/imports", json=sample(), headers=auth)
        since = await last_change_id(session)
        response = await client.post("/v1/imports", json=sample(), headers=auth)
        assert response.status_code == 200
        assert response.json()["counts"] == {
            entity: {"created": 0, "updated": 0, "unchanged": c["created"]}
            for entity, c in CREATED.items()
        }
        assert await changes_since(client, since) == []

    async def test_a_changed_record_is_updated(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        await client.post("/v1/imports", json=sample(), headers=auth)
        since = await last_change_id(session)
        payload = {"sources": sample()["sources"]}
        payload["sources"][1]["title"] = "Firms counted again"
        response = await client.post("/v1/imports", json=payload, headers=auth)
        assert response.json()["counts"] == {
            "sources": {"created": 0, "updated": 1, "unchanged": 1}
        }
        [change] = await changes_since(client, since)
        assert (change["entity_key"], change["action"], change["after"]["title"]) == (
            "qb-news-2024",
            "update",
            "Firms counted again",
        )

    async def test_one_bad_record_rejects_all_and_names_it(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        payload = sample()
        payload["feature_values"][3]["value"] = "high"
        since = await last_change_id(session)
        response = await client.post("/v1/imports", json=payload, headers=auth)
        body = assert_problem(response, 422)
        assert body["detail"] == "1 invalid record(s); nothing was imported."
        assert body["errors"] == [
            {
                "loc": ["body", "feature_values", 3, "value"],
                "msg": "QB/qq_cgt/2020-01-01: expected a number, got 'high'",
                "type": "invalid_record",
            }
        ]
        await _nothing_written(client, since)

    async def test_every_invalid_record_is_listed(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        payload = sample()
        payload["feature_values"][3]["value"] = "high"
        payload["observations"][2]["counterpart_code"] = None
        payload["events"][0]["source_ids"] = ["qa-missing"]
        since = await last_change_id(session)
        response = await client.post(
            "/v1/imports", params={"dry_run": "true"}, json=payload, headers=auth
        )
        body = assert_problem(response, 422)
        assert sorted(e["loc"] for e in body["errors"]) == [
            ["body", "events", 0, "source_ids"],
            ["body", "feature_values", 3, "value"],
            ["body", "observations", 2, "counterpart_code"],
        ]
        await _nothing_written(client, since)

    async def test_malformed_records_are_listed_with_their_field(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        payload = sample()
        payload["jurisdictions"][1]["kind"] = "planet"
        payload["observations"][0]["period"] = "2023-13"
        payload["sources"][0]["extra"] = 1
        since = await last_change_id(session)
        body = assert_problem(await client.post("/v1/imports", json=payload, headers=auth), 422)
        assert sorted(e["loc"] for e in body["errors"]) == [
            ["body", "jurisdictions", 1, "kind"],
            ["body", "observations", 0, "period"],
            ["body", "sources", 0, "extra"],
        ]
        await _nothing_written(client, since)

    async def test_malformed_and_inconsistent_records_are_listed_together(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        payload = sample()
        payload["observations"][0]["period"] = "2023-13"
        payload["feature_values"][3]["value"] = "high"
        body = assert_problem(await client.post("/v1/imports", json=payload, headers=auth), 422)
        assert sorted(e["loc"] for e in body["errors"]) == [
            ["body", "feature_values", 3, "value"],
            ["body", "observations", 0, "period"],
        ]

    @pytest.mark.parametrize(
        ("payload", "detail"),
        [
            ({}, "The dataset is empty."),
            ({"planets": []}, "1 invalid record(s); nothing was imported."),
            ([], "1 invalid record(s); nothing was imported."),
            ({"sources": {"id": "x"}}, "1 invalid record(s); nothing was imported."),
        ],
        ids=["empty", "unknown-entity", "not-an-object", "not-a-list"],
    )
    async def test_wrong_shape_is_422(
        self, client: AsyncClient, auth: dict[str, str], payload: Any, detail: str
    ) -> None:
        body = assert_problem(await client.post("/v1/imports", json=payload, headers=auth), 422)
        assert body["detail"] == detail

    async def test_malformed_json_is_400(self, client: AsyncClient, auth: dict[str, str]) -> None:
        response = await client.post(
            "/v1/imports",
            content=b'{"sources": [',
            headers={**auth, "content-type": "application/json"},
        )
        body = assert_problem(response, 400)
        assert body["detail"].startswith("The request body is not valid JSON: ")

    async def test_unsupported_content_type_is_422(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/imports",
            content=b"<dataset/>",
            headers={**auth, "content-type": "application/xml"},
        )
        body = assert_problem(response, 422)
        assert body["errors"] == [
            {
                "loc": ["header", "content-type"],
                "msg": "Unsupported media type",
                "type": "content_type",
            }
        ]


class TestImportCsv:
    @pytest.fixture(autouse=True)
    async def world(self, session: AsyncSession) -> None:
        await create_jurisdiction(session, "XA")
        await create_source(session, "zz-law")
        await create_metric(session, "zz_firms")

    async def test_observations(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        text = (
            f"{CSV_HEADER}\n"
            "XA,zz_firms,2024,10,,zz-law,verified,\n"
            'XA,zz_firms,2025-Q1,12.5,,zz-law,reported,"As reported, roughly."\n'
        )
        response = await client.post(
            "/v1/imports",
            params={"entity": "observations"},
            content=text.encode(),
            headers={**auth, "content-type": "text/csv; charset=utf-8"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["counts"] == {
            "observations": {"created": 2, "updated": 0, "unchanged": 0}
        }
        items = (await client.get("/v1/metrics/zz_firms/observations")).json()["items"]
        assert [(o["period"], o["value"], o["confidence"], o["note"]) for o in items] == [
            ("2024", 10.0, "verified", None),
            ("2025-Q1", 12.5, "reported", "As reported, roughly."),
        ]
        assert len(await changes_since(client, since)) == 2

    async def test_observations_is_the_default_entity(
        self, client: AsyncClient, auth: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/imports",
            content=f"{CSV_HEADER}\nZA,zz_firms,2024,10,,zz-law,verified,\n".encode(),
            headers={**auth, "content-type": "text/csv"},
        )
        assert response.json()["counts"] == {
            "observations": {"created": 1, "updated": 0, "unchanged": 0}
        }

    async def test_invalid_row_is_named(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        text = (
            f"{CSV_HEADER}\n"
            "XA,zz_firms,2024,10,,zz-law,verified,\n"
            "XA,zz_firms,2025,lots,,zz-law,verified,\n"
        )
        response = await client.post(
            "/v1/imports", content=text.encode(), headers={**auth, "content-type": "text/csv"}
        )
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [["body", "observations", 1, "value"]]
        assert (await client.get("/v1/metrics/zz_firms/observations")).json()["items"] == []
        assert await changes_since(client, since) == []

    async def test_sources(self, client: AsyncClient, auth: dict[str, str]) -> None:
        text = (
            "id,publisher,title,url,published_on,accessed_on,kind,note\n"
            "zz-csv,CSV Publisher,From CSV,https://example.org/csv,2024-01-31,,dataset,\n"
        )
        response = await client.post(
            "/v1/imports",
            params={"entity": "sources"},
            content=text.encode(),
            headers={**auth, "content-type": "text/csv"},
        )
        assert response.status_code == 200, response.text
        source = (await client.get("/v1/sources/zz-csv")).json()
        assert (source["title"], source["published_on"], source["accessed_on"]) == (
            "From CSV",
            "2024-01-31",
            None,
        )

    async def test_jurisdictions_keep_their_regulators(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        zb = await create_jurisdiction(session, "ZB", name="Zedland B", currency="EUR")
        await create_regulator(session, zb, "zb-vaa", name="VAA")
        text = (
            "code,name,kind,parent_code,region,currency,summary\n"
            "ZB,Zedland Beta,country,,europe,EUR,\n"
        )
        response = await client.post(
            "/v1/imports",
            params={"entity": "jurisdictions"},
            content=text.encode(),
            headers={**auth, "content-type": "text/csv"},
        )
        assert response.status_code == 200, response.text
        profile = (await client.get("/v1/jurisdictions/ZB")).json()
        assert profile["name"] == "Zedland Beta"
        assert [r["id"] for r in profile["regulators"]] == ["zb-vaa"]

    async def test_non_utf8_body_is_400(self, client: AsyncClient, auth: dict[str, str]) -> None:
        response = await client.post(
            "/v1/imports",
            content=f"{CSV_HEADER}\nZA,zz_firms,2024,10,,zz-law,verified,caf\xe9\n".encode(
                "latin-1"
            ),
            headers={**auth, "content-type": "text/csv"},
        )
        assert assert_problem(response, 400)["detail"] == "The CSV body is not UTF-8."

    async def test_unknown_entity_is_422(self, client: AsyncClient, auth: dict[str, str]) -> None:
        response = await client.post(
            "/v1/imports",
            params={"entity": "planets"},
            content=b"a,b\n1,2\n",
            headers={**auth, "content-type": "text/csv"},
        )
        body = assert_problem(response, 422)
        assert [e["loc"] for e in body["errors"]] == [["query", "entity"]]


def _large(count: int) -> dict[str, Any]:
    """The sample with `count` more daily observations of one series: a bulk import."""
    payload = sample()
    first = payload["observations"][0]
    payload["observations"] += [
        dict(first, period=f"{2000 + n // 300}-{n // 25 % 12 + 1:02d}-{n % 25 + 1:02d}", value=n)
        for n in range(count)
    ]
    return payload


class TestImportLarge:
    """A body with many feature values and observations is imported in bulk
    (app/dataset/bulk.py): same answers, same change records."""

    async def test_creates_everything_with_one_change_per_record(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        since = await last_change_id(session)
        response = await client.post("/v1/imports", json=_large(10_000), headers=auth)
        assert response.status_code == 200, response.text
        assert response.json()["counts"]["observations"] == {
            "created": 10_003,
            "updated": 0,
            "unchanged": 0,
        }
        rows = await session.execute(
            select(Change.entity, func.count()).where(Change.id > since).group_by(Change.entity)
        )
        changes = dict(rows.all())
        assert (changes["observation"], changes["feature_value"]) == (10_003, 3)
        series = await client.get(
            "/v1/jurisdictions/QA/metrics", params={"metrics": "qq_firms", "mrv": 1}
        )
        assert series.status_code == 200

    async def test_every_invalid_record_is_listed(
        self, client: AsyncClient, session: AsyncSession, auth: dict[str, str]
    ) -> None:
        payload = _large(10_000)
        payload["observations"][5000]["jurisdiction_code"] = "QZ"
        payload["observations"][7000]["period"] = "2024-13"
        payload["feature_values"][3]["value"] = "high"
        payload["surprise"] = []
        since = await last_change_id(session)
        response = await client.post("/v1/imports", json=payload, headers=auth)
        body = assert_problem(response, 422)
        assert body["detail"] == "4 invalid record(s); nothing was imported."
        assert [e["loc"] for e in body["errors"]] == [
            ["body", ""],  # the unknown list, as the loader names it
            ["body", "observations", 7000, "period"],
            ["body", "feature_values", 3, "value"],
            ["body", "observations", 5000, "jurisdiction_code"],
        ]
        await _nothing_written(client, since)
