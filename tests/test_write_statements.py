"""How many SQL statements each write issues, and that the number does not grow with the
database: every write reads only the rows it touches (issue 12).

Statements per write (every statement the app sends, savepoints of the test's session left
out; the key lookup and the writers' lock included):

| write                                              | statements |
| -------------------------------------------------- | ---------- |
| PUT /v1/jurisdictions/{code}/features/{key}        | 10         |
| PATCH /v1/jurisdictions/{code}                     | 9          |
| POST /v1/metrics/{key}/observations (100, updated) | 9          |
| PUT /v1/sources/{id}                               | 7          |

The rate limiter's key check is left out (a server caches it per key for a minute).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.factories import (
    create_feature,
    create_jurisdiction,
    create_metric,
    create_source,
)
from tests.keys.helpers import bearer, create_api_key

IGNORED = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
# The rate limiter's key check: cached per key for a minute in a server, but it runs on a
# connection of its own, which cannot see the test's uncommitted key, so it repeats here.
RATE_LIMITER_KEY_CHECK = "SELECT true FROM api_key WHERE hash"


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(IGNORED) and not statement.startswith(
            RATE_LIMITER_KEY_CHECK
        ):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture
async def auth(session: AsyncSession) -> dict[str, str]:
    await create_source(session, "zz-law")
    land = await create_jurisdiction(session, "XZ", region="africa")
    await create_feature(session, "zz_rate", value_type="percent", category="taxation")
    await create_metric(session, "zz_firms")
    del land
    return bearer(await create_api_key(session, "write"))


async def _bulk(session: AsyncSession) -> None:
    """Many more rows than the bundled data: 1,000 jurisdictions with 10 feature values and
    10 observations each (10,000 of both), 3,000 sources; in chunks, each statement short."""
    await session.execute(text("SET LOCAL statement_timeout = 0"))
    await session.execute(
        text(
            "INSERT INTO source (slug, publisher, title, url, accessed_on, kind) "
            "SELECT 'bulk-' || n, 'P', 'T', 'https://example.org/' || n, DATE '2026-01-01', "
            "'article' FROM generate_series(1, 3000) n"
        )
    )
    await session.execute(
        text(
            "INSERT INTO feature (key, name, category, value_type) "
            "SELECT 'bulk_' || n, 'Bulk', 'licensing', 'boolean' FROM generate_series(1, 10) n"
        )
    )
    for chunk in range(10):
        codes = {"first": chunk * 100 + 1, "last": chunk * 100 + 100}
        await session.execute(
            text(
                "INSERT INTO jurisdiction (code, name, kind, region, currency) "
                "SELECT 'XB-' || n, 'Bulk ' || n, 'country', 'africa', 'EUR' "
                "FROM generate_series(CAST(:first AS int), CAST(:last AS int)) n"
            ),
            codes,
        )
        chunk_codes = (
            "SELECT 'XB-' || n FROM generate_series(CAST(:first AS int), CAST(:last AS int)) n"
        )
        await session.execute(
            text(
                "INSERT INTO feature_value (jurisdiction_id, feature_id, value, valid_from, "
                "confidence) SELECT j.id, f.id, 'true'::jsonb, DATE '2024-01-01', 'verified' "
                f"FROM jurisdiction j CROSS JOIN feature f WHERE j.code IN ({chunk_codes}) "
                "AND f.key LIKE 'bulk%'"
            ),
            codes,
        )
        await session.execute(
            text(
                "INSERT INTO observation (jurisdiction_id, metric_id, period, period_start, "
                "period_end, value, confidence) SELECT j.id, m.id, y::text, make_date(y, 1, 1),"
                " make_date(y, 12, 31), 1, 'verified' FROM jurisdiction j CROSS JOIN metric m "
                f"CROSS JOIN generate_series(2011, 2020) y WHERE j.code IN ({chunk_codes})"
            ),
            codes,
        )


WRITES: list[tuple[str, str, str, Any]] = [
    (
        "feature value PUT",
        "PUT",
        "/v1/jurisdictions/XZ/features/zz_rate",
        lambda n: {
            "value": 10 + n,
            "valid_from": f"202{n}-01-01",
            "source_ids": ["zz-law"],
            "confidence": "verified",
        },
    ),
    ("jurisdiction PATCH", "PATCH", "/v1/jurisdictions/XZ", lambda n: {"name": f"Z{n}"}),
    (
        "100 observations POST",
        "POST",
        "/v1/metrics/zz_firms/observations",
        lambda n: {
            "observations": [
                {
                    "jurisdiction_code": "XZ",
                    "period": f"{1900 + year}",
                    "value": n * 1000 + year,
                    "source_ids": ["zz-law"],
                    "confidence": "verified",
                }
                for year in range(100)
            ]
        },
    ),
    (
        "source PUT",
        "PUT",
        "/v1/sources/zz-law",
        lambda n: {
            "publisher": "P",
            "title": f"T{n}",
            "url": "https://example.org/law",
            "accessed_on": "2026-01-01",
            "kind": "law",
        },
    ),
]


async def _count(
    client: AsyncClient, engine: AsyncEngine, session: AsyncSession, auth: dict[str, str], n: int
) -> dict[str, int]:
    counts = {}
    for name, method, path, body in WRITES:
        # The test's session spans requests: forget its writers' lock, so each write takes
        # (and counts) it as in production.
        session.info.pop("writers_locked", None)
        with counted(engine) as statements:
            response = await client.request(method, path, json=body(n), headers=auth)
        assert response.status_code in (200, 201), (name, response.text)
        counts[name] = len(statements)
    return counts


BUDGETS = {
    "feature value PUT": 10,
    "jurisdiction PATCH": 9,
    "100 observations POST": 9,
    "source PUT": 7,
}


@pytest.mark.once
async def test_writes_cost_what_they_touch(
    client: AsyncClient, engine: AsyncEngine, session: AsyncSession, auth: dict[str, str]
) -> None:
    await _count(client, engine, session, auth, 1)  # creates; the next ones replace or extend
    small = await _count(client, engine, session, auth, 2)
    await _bulk(session)
    large = await _count(client, engine, session, auth, 3)
    assert large == small, "a write's statements grew with the database"
    over = {name: n for name, n in small.items() if n > BUDGETS[name]}
    assert not over, f"over budget: {over} (budgets {BUDGETS})"
