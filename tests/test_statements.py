"""How many SQL statements each read issues: a small constant, whatever the number of rows, so
an N+1 (a query per row) fails here.

The data below has several jurisdictions, each with several values, observations, events and
sources, so a per-row query would show. Savepoint statements of the test's session are not
counted, only queries (SELECT/WITH).

Statements per request:

| request                                                       | statements |
| ------------------------------------------------------------- | ---------- |
| GET /v1/jurisdictions                                         | 1          |
| GET /v1/jurisdictions?has_feature=                            | 2          |
| GET /v1/jurisdictions/{code}                                  | 2          |
| GET /v1/jurisdictions/{code}/features                         | 2          |
| GET /v1/jurisdictions/{code}/features?history=true            | 2          |
| GET /v1/jurisdictions/{code}/metrics                          | 2          |
| GET /v1/jurisdictions/{code}/metrics?metrics=&mrv=            | 3          |
| GET /v1/jurisdictions/{code}/events                           | 2          |
| GET /v1/features                                              | 1          |
| GET /v1/features/{key}                                        | 1          |
| GET /v1/features/{key}/values                                 | 2          |
| GET /v1/features/{key}/values?jurisdictions=                  | 3          |
| GET /v1/metrics                                               | 1          |
| GET /v1/metrics/{key}                                         | 1          |
| GET /v1/metrics/{key}/observations                            | 2          |
| GET /v1/metrics/{key}/observations?jurisdictions=&counterpart= | 4          |
| GET /v1/sources                                               | 1          |
| GET /v1/sources/{id}                                          | 1          |
| GET /v1/events                                                | 1          |
| GET /v1/events?jurisdictions=                                 | 2          |
| GET /v1/changes                                               | 1          |
| GET /v1/compare                                               | 1          |
| GET /v1/indices                                               | 1          |
| GET /v1/indices/{key}                                         | 1          |
| GET /v1/indices/{key}/scores                                  | 2          |
| POST /v1/scenarios/evaluate                                   | 4          |
| any 404 on a code or key                                      | 1          |
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.factories import (
    create_event,
    create_feature,
    create_feature_value,
    create_index,
    create_jurisdiction,
    create_metric,
    create_observation,
    create_regulator,
    create_source,
)

CODES = ("XA", "ZB", "ZC", "ZD")


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[list[str]]:
    """The queries run on `engine` inside the block (savepoints left out)."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture
async def world(session: AsyncSession) -> None:
    """Four jurisdictions, each with two regulators, a history of two features, a bilateral
    and a plain metric over three years, three events, all citing two sources; an index."""
    sources = [await create_source(session, f"zz-source-{n}") for n in range(2)]
    flag = await create_feature(session, "zz_flag", category="innovation")
    rate = await create_feature(session, "zz_rate", value_type="percent", category="taxation")
    firms = await create_metric(session, "zz_firms")
    flow = await create_metric(session, "zz_flow", bilateral=True)
    lands = [await create_jurisdiction(session, code, region="africa") for code in CODES]
    for land in lands:
        slug = land.code.lower()
        await create_regulator(session, land, f"{slug}-vaa")
        await create_regulator(session, land, f"{slug}-cb", remit=["banking"])
        await create_feature_value(
            session,
            land,
            flag,
            False,
            valid_from=date(2019, 1, 1),
            valid_to=date(2022, 1, 1),
            sources=sources,
        )
        await create_feature_value(
            session, land, flag, True, valid_from=date(2022, 1, 1), sources=sources
        )
        await create_feature_value(session, land, rate, 12.5, sources=sources)
        for year in ("2022", "2023", "2024"):
            await create_observation(session, land, firms, year, 3, sources=sources)
            for other in lands:
                if other is not land:
                    await create_observation(
                        session, land, flow, year, 1, counterpart=other, sources=sources
                    )
        for n in range(3):
            await create_event(
                session, land, f"{slug}-event-{n}", event_date=date(2023, 1, 1 + n), sources=sources
            )
    await create_index(
        session,
        "zz_index",
        [("feature", flag, 0.5, "boolean"), ("metric", firms, 0.5, "minmax")],
    )


REQUESTS = [
    ("/v1/jurisdictions?region=africa", 1),
    ("/v1/jurisdictions?region=africa&has_feature=zz_flag", 2),
    ("/v1/jurisdictions/XA", 2),
    ("/v1/jurisdictions/XA/features", 2),
    ("/v1/jurisdictions/XA/features?history=true&format=csv", 2),
    ("/v1/jurisdictions/XA/metrics", 2),
    ("/v1/jurisdictions/XA/metrics?metrics=zz_firms,zz_flow&mrv=2&from=2023", 3),
    ("/v1/jurisdictions/XA/events?kind=law_effective", 2),
    ("/v1/features", 1),
    ("/v1/features/zz_flag", 1),
    ("/v1/features/zz_flag/values?history=true", 2),
    ("/v1/features/zz_flag/values?jurisdictions=XA,ZB,ZC", 3),
    ("/v1/metrics", 1),
    ("/v1/metrics/zz_firms", 1),
    ("/v1/metrics/zz_firms/observations", 2),
    ("/v1/metrics/zz_flow/observations?jurisdictions=XA,ZB&counterpart=ZC,ZD&mrv=1", 4),
    ("/v1/sources?q=zz-", 1),
    ("/v1/sources/zz-source-0", 1),
    ("/v1/events", 1),
    ("/v1/events?jurisdictions=XA,ZB,ZC,ZD&from=2023", 2),
    ("/v1/changes", 1),
    ("/v1/compare?jurisdictions=XA,ZB,ZC,ZD", 1),
    ("/v1/compare?jurisdictions=XA,ZB&features=zz_flag,zz_rate&metrics=zz_firms", 1),
    ("/v1/indices", 1),
    ("/v1/indices/zz_index", 1),
    ("/v1/indices/zz_index/scores?jurisdictions=XA,ZB,ZC,ZD", 2),
    ("/v1/jurisdictions/QQ", 1),
    ("/v1/features/zz_nope/values", 1),
    ("/v1/metrics/zz_nope", 1),
    ("/v1/sources/zz-nope", 1),
]


@pytest.mark.usefixtures("world")
class TestStatementsPerRequest:
    @pytest.mark.parametrize(("url", "expected"), REQUESTS)
    async def test_a_read_issues_a_constant_number_of_statements(
        self, client: AsyncClient, engine: AsyncEngine, url: str, expected: int
    ) -> None:
        with counted(engine) as statements:
            response = await client.get(url)
        assert response.status_code in (200, 404), response.text
        assert len(statements) == expected, "\n---\n".join(statements)

    async def test_a_page_of_many_rows_is_one_query(
        self, client: AsyncClient, engine: AsyncEngine
    ) -> None:
        with counted(engine) as statements:
            response = await client.get("/v1/metrics/zz_flow/observations?limit=500")
        assert len(response.json()["items"]) == 4 * 3 * 3
        assert len(statements) == 2

    async def test_scenario(self, client: AsyncClient, engine: AsyncEngine) -> None:
        body = {
            "index": "zz_index",
            "jurisdiction": "XA",
            "jurisdictions": list(CODES),
            "overrides": [{"feature": "zz_flag", "value": False}],
        }
        with counted(engine) as statements:
            response = await client.post("/v1/scenarios/evaluate", json=body)
        assert response.status_code == 200, response.text
        assert len(statements) == 4, "\n---\n".join(statements)
