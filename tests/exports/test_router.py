"""GET /v1/export: the dataset as a zip of CSV files with a Frictionless datapackage.json."""

import csv
import io
import json
import zipfile

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import create_jurisdiction
from tests.test_errors import assert_problem

TABLES = [
    "sources",
    "jurisdictions",
    "features",
    "metrics",
    "feature_values",
    "observations",
    "events",
    "indices",
    "scenarios",
    "regulators",
]


class TestExportDataset:
    async def test_a_zip_of_csv_files_described_by_a_datapackage(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        await create_jurisdiction(session, "XA", name="Zedland Alpha", region="africa")
        response = await client.get("/v1/export")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        version = (await client.get("/v1")).json()["data_version"]
        assert response.headers["content-disposition"] == (
            f'attachment; filename="juriscope-{version}.zip"'
        )
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        assert archive.namelist() == ["datapackage.json", *sorted(f"{t}.csv" for t in TABLES)]
        package = json.loads(archive.read("datapackage.json"))
        assert package["profile"] == "tabular-data-package"
        assert package["version"] == str(version)
        assert [r["name"] for r in package["resources"]] == TABLES
        for resource in package["resources"]:
            header = next(csv.reader(io.StringIO(archive.read(resource["path"]).decode())))
            assert [f["name"] for f in resource["schema"]["fields"]] == header
            assert resource["mediatype"] == "text/csv"
        rows = list(csv.DictReader(io.StringIO(archive.read("jurisdictions.csv").decode())))
        assert {"code": "XA", "name": "Zedland Alpha"}.items() <= next(
            r for r in rows if r["code"] == "XA"
        ).items()

    async def test_columns_are_typed(self, client: AsyncClient) -> None:
        archive = zipfile.ZipFile(io.BytesIO((await client.get("/v1/export")).content))
        package = json.loads(archive.read("datapackage.json"))
        fields = {
            (resource["name"], field["name"]): field
            for resource in package["resources"]
            for field in resource["schema"]["fields"]
        }
        assert fields[("feature_values", "valid_from")]["type"] == "date"
        assert fields[("feature_values", "valid_to")]["type"] == "date"
        assert fields[("observations", "value")]["type"] == "number"
        assert fields[("feature_values", "value")]["type"] == "string"
        assert fields[("features", "higher_is_better")]["type"] == "boolean"
        assert fields[("feature_values", "source_ids")]["description"] == (
            "A list, its items joined by `;`."
        )
        assert fields[("jurisdictions", "code")]["constraints"] == {"required": True}

    async def test_revalidates_with_its_etag(self, client: AsyncClient) -> None:
        first = await client.get("/v1/export")
        again = await client.get("/v1/export", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304

    async def test_an_accept_header_that_rules_out_zip_is_406(self, client: AsyncClient) -> None:
        response = await client.get("/v1/export", headers={"Accept": "application/json"})
        assert_problem(response, 406)
        assert "application/zip" in response.json()["detail"]
        assert (await client.get("/v1/export", headers={"Accept": "*/*"})).status_code == 200
