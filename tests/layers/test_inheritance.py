"""Layers: a jurisdiction inherits its ancestors' values of a feature that inherits, unless it
has its own; every read that shows values in force says where a value comes from."""

import csv
import io
from datetime import date

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    create_feature,
    create_feature_value,
    create_index,
    create_jurisdiction,
    create_source,
)


@pytest.fixture
async def tree(session: AsyncSession) -> None:
    """XU (a union) > XM (a member) > XM-ZZ (a zone in it); XO, a member with values of its
    own. The union holds a licensing regime and a sandbox; XO has its own sandbox; a grey-list
    style flag does not inherit."""
    law = await create_source(session, "zz-union-law")
    union = await create_jurisdiction(session, "XU", kind="supranational", region="europe")
    member = await create_jurisdiction(session, "XM", parent=union, region="europe")
    zone = await create_jurisdiction(session, "XM-ZZ", kind="special_zone", parent=member)
    other = await create_jurisdiction(session, "XO", parent=union, region="europe")
    del zone
    regime = await create_feature(session, "zz_licensing", category="licensing")
    sandbox = await create_feature(session, "zz_sandbox", category="innovation")
    flag = await create_feature(session, "zz_listed", category="aml_compliance", inherits=False)
    conduct = await create_feature(
        session, "zz_conduct", category="consumer_protection", reaches_special_zones=False
    )
    await create_feature_value(session, union, regime, True, sources=[law])
    await create_feature_value(session, union, conduct, True, sources=[law])
    await create_feature_value(session, union, sandbox, True, sources=[law])
    await create_feature_value(session, union, flag, True, sources=[law])
    await create_feature_value(
        session, other, sandbox, False, valid_from=date(2021, 1, 1), sources=[law]
    )
    await create_feature_value(session, member, flag, False, sources=[law])
    await create_index(
        session,
        "zz_layers",
        [
            ("feature", regime, 0.5, "boolean"),
            ("feature", sandbox, 0.5, "boolean"),
        ],
    )


def _by(items: list[dict], key: str) -> dict:  # type: ignore[type-arg]
    return {item[key]: item for item in items}


@pytest.mark.usefixtures("tree")
class TestInheritance:
    async def test_a_member_reads_the_unions_values_marked_inherited(
        self, client: AsyncClient
    ) -> None:
        items = (await client.get("/v1/jurisdictions/XM/features?limit=500")).json()["items"]
        values = _by(items, "feature_key")
        assert values["zz_licensing"]["value"] is True
        assert values["zz_licensing"]["inherited_from"] == "XU"
        assert values["zz_licensing"]["jurisdiction_code"] == "XM"
        assert values["zz_listed"]["value"] is False, "its own value wins"
        assert values["zz_listed"]["inherited_from"] is None

    async def test_inheritance_runs_down_every_level(self, client: AsyncClient) -> None:
        items = (await client.get("/v1/jurisdictions/XM-ZZ/features?limit=500")).json()["items"]
        values = _by(items, "feature_key")
        assert values["zz_sandbox"]["inherited_from"] == "XU"
        assert "zz_listed" not in values, "a flag that does not inherit stays where it is"

    async def test_a_special_zone_keeps_its_own_law(self, client: AsyncClient) -> None:
        """A financial free zone inherits federal law (here the sandbox) but not what its own
        law sets (conduct rules): there it is unknown until the zone's own value is stored."""
        zone = _by(
            (await client.get("/v1/jurisdictions/XM-ZZ/features?limit=500")).json()["items"],
            "feature_key",
        )
        member = _by(
            (await client.get("/v1/jurisdictions/XM/features?limit=500")).json()["items"],
            "feature_key",
        )
        assert member["zz_conduct"]["inherited_from"] == "XU"
        assert "zz_conduct" not in zone and zone["zz_sandbox"]["inherited_from"] == "XU"
        matrix = (await client.get("/v1/compare?jurisdictions=XM,XM-ZZ&features=zz_conduct")).json()
        [row] = matrix["features"]
        assert row["values"]["XM-ZZ"] is None and row["values"]["XM"]["inherited_from"] == "XU"
        coverage = (
            await client.get("/v1/coverage?jurisdictions=XM-ZZ&category=consumer_protection")
        ).json()
        assert [(i["filled"], i["inherited"]) for i in coverage["items"]] == [(0, 0)]

    async def test_a_value_of_its_own_hides_the_ancestors(self, client: AsyncClient) -> None:
        values = (await client.get("/v1/features/zz_sandbox/values?jurisdictions=XO,XM,XU")).json()[
            "items"
        ]
        by_code = _by(values, "jurisdiction_code")
        assert (by_code["XO"]["value"], by_code["XO"]["inherited_from"]) == (False, None)
        assert (by_code["XM"]["value"], by_code["XM"]["inherited_from"]) == (True, "XU")
        assert by_code["XU"]["inherited_from"] is None

    async def test_before_its_own_value_a_member_inherits(self, client: AsyncClient) -> None:
        values = (
            await client.get("/v1/features/zz_sandbox/values?jurisdictions=XO&as_of=2020-06-01")
        ).json()["items"]
        assert [(v["value"], v["inherited_from"]) for v in values] == [(True, "XU")]

    async def test_history_lists_own_values_only(self, client: AsyncClient) -> None:
        items = (await client.get("/v1/jurisdictions/XM/features?history=true&limit=500")).json()[
            "items"
        ]
        assert {v["feature_key"] for v in items} == {"zz_listed"}

    async def test_csv_names_the_source_of_each_value(self, client: AsyncClient) -> None:
        text = (await client.get("/v1/jurisdictions/XM/features?format=csv&limit=500")).text
        rows = _by(list(csv.DictReader(io.StringIO(text))), "feature_key")
        assert rows["zz_licensing"]["inherited_from"] == "XU"
        assert rows["zz_listed"]["inherited_from"] == ""

    async def test_compare_shows_inherited_cells(self, client: AsyncClient) -> None:
        body = (
            await client.get(
                "/v1/compare",
                params={"jurisdictions": "XM,XO", "features": "zz_sandbox,zz_listed"},
            )
        ).json()
        rows = _by(body["features"], "key")
        sandbox = rows["zz_sandbox"]["values"]
        assert (sandbox["XM"]["value"], sandbox["XM"]["inherited_from"]) == (True, "XU")
        assert (sandbox["XO"]["value"], sandbox["XO"]["inherited_from"]) == (False, None)
        assert rows["zz_listed"]["values"]["XO"] is None
        assert "zz-union-law" in {s["id"] for s in body["sources"]}

    async def test_scores_count_inherited_values(self, client: AsyncClient) -> None:
        body = (
            await client.get(
                "/v1/indices/zz_layers/scores",
                params={"jurisdictions": "XM,XO,XM-ZZ", "min_coverage": 0},
            )
        ).json()
        scores = {item["code"]: item for item in body["items"]}
        assert scores["XM"]["coverage"] == 1.0
        assert scores["XM-ZZ"]["coverage"] == 1.0
        assert scores["XM"]["score"] > scores["XO"]["score"], "XO's own sandbox is false"

    async def test_the_definition_says_whether_it_inherits(self, client: AsyncClient) -> None:
        assert (await client.get("/v1/features/zz_listed")).json()["inherits"] is False
        assert (await client.get("/v1/features/zz_sandbox")).json()["inherits"] is True
