"""GET /v1/coverage: the fill matrix per jurisdiction and category, own values, inherited
ones and unknowns, with confidence counts; JSON and CSV."""

import csv
import io
from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import create_feature, create_feature_value, create_jurisdiction
from tests.test_errors import assert_problem


@pytest.fixture
async def world(session: AsyncSession) -> None:
    union = await create_jurisdiction(session, "XU", kind="supranational")
    member = await create_jurisdiction(session, "XM", parent=union)
    del member
    other = await create_jurisdiction(session, "XO")
    a = await create_feature(session, "zz_cov_a", category="privacy")
    b = await create_feature(session, "zz_cov_b", category="privacy")
    flag = await create_feature(session, "zz_cov_flag", category="privacy", inherits=False)
    await create_feature_value(session, union, a, True)
    await create_feature_value(session, union, flag, True, confidence="reported")
    await create_feature_value(session, other, a, False, confidence="estimated")
    await create_feature_value(
        session, other, b, True, valid_from=date(2019, 1, 1), valid_to=date(2020, 1, 1)
    )


def _privacy(body: dict[str, Any], code: str) -> dict[str, Any]:
    [cell] = [i for i in body["items"] if i["code"] == code and i["category"] == "privacy"]
    assert isinstance(cell, dict)
    return cell


@pytest.mark.usefixtures("world")
class TestCoverage:
    async def test_counts_own_inherited_and_unknown(self, client: AsyncClient) -> None:
        body = (await client.get("/v1/coverage?jurisdictions=XU,XM,XO&category=privacy")).json()
        features = (await client.get("/v1/features?category=privacy&limit=500")).json()
        n = len(features["items"])
        union, member, other = (_privacy(body, c) for c in ("XU", "XM", "XO"))
        assert (union["filled"], union["inherited"], union["unknown"]) == (2, 0, n - 2)
        assert (union["verified"], union["reported"]) == (1, 1)
        # XM inherits zz_cov_a; the flag does not inherit.
        assert (member["filled"], member["inherited"], member["unknown"]) == (0, 1, n - 1)
        # XO's zz_cov_b ended in 2020: unknown today.
        assert (other["filled"], other["inherited"], other["estimated"]) == (1, 0, 1)
        assert body["totals"]["cells"] == 3 * n
        assert body["totals"]["filled"] + body["totals"]["inherited"] == 4

    async def test_as_of_counts_what_was_in_force(self, client: AsyncClient) -> None:
        body = (
            await client.get("/v1/coverage?jurisdictions=XO&category=privacy&as_of=2019-06-01")
        ).json()
        assert _privacy(body, "XO")["filled"] == 1  # zz_cov_b then, zz_cov_a from 2020

    async def test_every_category_of_every_jurisdiction(self, client: AsyncClient) -> None:
        body = (await client.get("/v1/coverage")).json()
        codes = {i["code"] for i in body["items"]}
        assert {"XU", "XM", "XO"} <= codes
        per_code = {c: [i for i in body["items"] if i["code"] == c] for c in ("XU",)}
        categories = (await client.get("/openapi.json")).json()["components"]["schemas"][
            "FeatureCategory"
        ]["enum"]
        assert {i["category"] for i in per_code["XU"]} <= set(categories)
        for item in body["items"]:
            assert item["filled"] + item["inherited"] + item["unknown"] == item["features"]

    async def test_csv(self, client: AsyncClient) -> None:
        response = await client.get("/v1/coverage?jurisdictions=XM&category=privacy&format=csv")
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        [row] = list(csv.DictReader(io.StringIO(response.text)))
        assert (row["code"], row["category"], row["inherited"]) == ("XM", "privacy", "1")

    async def test_unknown_code_is_404(self, client: AsyncClient) -> None:
        assert_problem(await client.get("/v1/coverage?jurisdictions=XM,QQ"), 404)

    async def test_bad_category_is_422(self, client: AsyncClient) -> None:
        assert_problem(await client.get("/v1/coverage?category=nope"), 422)
