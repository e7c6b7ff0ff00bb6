"""The OpenAPI document is clean enough to generate an SDK from, and the SDK works."""

import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.main import create_app
from tests.factories import create_feature, create_jurisdiction, vacate_region

PACKAGE = "juriscope_client"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    # The document does not depend on the database; the URL is never connected to.
    app = create_app(Settings(env="test", database_url="postgresql://nobody@127.0.0.1:1/none"))
    return app.openapi()


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _schema_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _schema_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schema_refs(value)


class TestDocument:
    def test_operation_ids_are_unique_camel_case(self, spec: dict[str, Any]) -> None:
        ids = [operation.get("operationId", "") for _, _, operation in _operations(spec)]
        assert [i for i in ids if not re.fullmatch(r"^[a-z][A-Za-z]+$", i)] == []
        assert len(ids) == len(set(ids))

    def test_read_operations_have_the_documented_ids(self, spec: dict[str, Any]) -> None:
        ids = {(method, path): op["operationId"] for method, path, op in _operations(spec)}
        assert {
            ("GET", "/healthz"): "getHealth",
            ("GET", "/readyz"): "getReadiness",
            ("GET", "/v1"): "getApiIndex",
            ("GET", "/v1/jurisdictions"): "listJurisdictions",
            ("GET", "/v1/jurisdictions/{code}"): "getJurisdiction",
            ("GET", "/v1/jurisdictions/{code}/features"): "listJurisdictionFeatures",
            ("GET", "/v1/jurisdictions/{code}/metrics"): "listJurisdictionObservations",
            ("GET", "/v1/jurisdictions/{code}/events"): "listJurisdictionEvents",
            ("GET", "/v1/features"): "listFeatures",
            ("GET", "/v1/features/{key}"): "getFeature",
            ("GET", "/v1/features/{key}/values"): "listFeatureValues",
            ("GET", "/v1/metrics"): "listMetrics",
            ("GET", "/v1/metrics/{key}"): "getMetric",
            ("GET", "/v1/metrics/{key}/observations"): "listMetricObservations",
            ("GET", "/v1/sources"): "listSources",
            ("GET", "/v1/sources/{id}"): "getSource",
            ("GET", "/v1/events"): "listEvents",
            ("GET", "/v1/changes"): "listChanges",
            ("GET", "/v1/compare"): "compareJurisdictions",
            ("GET", "/v1/indices"): "listIndices",
            ("GET", "/v1/indices/{key}"): "getIndex",
            ("GET", "/v1/indices/{key}/scores"): "getIndexScores",
            ("POST", "/v1/scenarios/evaluate"): "evaluateScenario",
        }.items() <= ids.items()

    def test_every_operation_has_a_tag_and_a_summary(self, spec: dict[str, Any]) -> None:
        missing = [
            f"{method} {path}"
            for method, path, operation in _operations(spec)
            if len(operation.get("tags", [])) != 1 or not operation.get("summary")
        ]
        assert missing == []

    def test_every_operation_has_a_description(self, spec: dict[str, Any]) -> None:
        missing = [
            f"{method} {path}"
            for method, path, operation in _operations(spec)
            if not operation.get("description")
        ]
        assert missing == []

    def test_every_error_response_is_a_problem(self, spec: dict[str, Any]) -> None:
        wrong = [
            f"{method} {path} {status}"
            for method, path, operation in _operations(spec)
            for status, response in operation["responses"].items()
            if int(status) >= 400
            and (
                response.get("content", {}).get("application/problem+json", {}).get("schema")
                != PROBLEM_REF
                or any(
                    content.get("schema") != PROBLEM_REF
                    for content in response.get("content", {}).values()
                )
            )
        ]
        assert wrong == []

    def test_error_responses_document_only_problem_json(self, spec: dict[str, Any]) -> None:
        media_types = {
            media_type
            for _, _, operation in _operations(spec)
            for status, response in operation["responses"].items()
            if int(status) >= 400
            for media_type in response.get("content", {})
        }
        assert media_types == {"application/problem+json"}

    def test_validation_errors_are_documented_as_problems(self, spec: dict[str, Any]) -> None:
        # FastAPI's default 422 schema would appear as HTTPValidationError.
        assert "HTTPValidationError" not in spec["components"]["schemas"]
        assert "ValidationError" not in spec["components"]["schemas"]

    def test_database_backed_operations_document_503(self, spec: dict[str, Any]) -> None:
        lacking = [
            f"{method} {path}"
            for method, path, operation in _operations(spec)
            if (path == "/v1" or path.startswith("/v1/")) and "503" not in operation["responses"]
        ]
        assert lacking == []

    def test_operations_with_inputs_document_422(self, spec: dict[str, Any]) -> None:
        lacking = [
            f"{method} {path}"
            for method, path, operation in _operations(spec)
            if (operation.get("parameters") or operation.get("requestBody"))
            and "422" not in operation["responses"]
        ]
        assert lacking == []

    def test_lookups_by_code_or_key_document_404(self, spec: dict[str, Any]) -> None:
        lacking = [
            f"{method} {path}"
            for method, path, operation in _operations(spec)
            if method == "GET" and "{" in path and "404" not in operation["responses"]
        ]
        assert lacking == []

    def test_the_api_index_is_public_and_typed(self, spec: dict[str, Any]) -> None:
        operation = spec["paths"]["/v1"]["get"]
        assert operation["security"] == []
        assert sorted(operation["responses"]) == ["200", "304", "406", "422", "429", "503"]
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ApiIndex"
        }
        index = spec["components"]["schemas"]["ApiIndex"]
        assert index["required"] == ["name", "version", "data_version", "data_changed_at", "links"]
        assert index["properties"]["links"] == {"$ref": "#/components/schemas/ApiIndexLinks"}
        assert spec["components"]["schemas"]["ApiIndexLinks"]["required"] == [
            "jurisdictions",
            "features",
            "metrics",
            "sources",
            "events",
            "changes",
            "indices",
            "compare",
            "scenarios",
            "keys",
            "openapi",
            "docs",
        ]

    def test_public_reads_need_no_key_and_writes_do(self, spec: dict[str, Any]) -> None:
        security = {
            (method, path): operation["security"]
            for method, path, operation in _operations(spec)
            if path.startswith("/v1")
        }
        assert security[("GET", "/v1/jurisdictions")] == []
        assert security[("POST", "/v1/scenarios/evaluate")] == []
        assert security[("GET", "/v1/keys")] == [{"apiKey": []}]
        assert security[("PUT", "/v1/jurisdictions/{code}")] == [{"apiKey": []}]
        assert security[("POST", "/v1/imports")] == [{"apiKey": []}]
        assert {
            f"{method} {path}"
            for (method, path), required in security.items()
            if required == []
            and (method != "GET" or path.startswith("/v1/keys") or path == "/v1/imports")
        } == {"POST /v1/scenarios/evaluate"}
        assert [s for s in security.values() if s not in ([], [{"apiKey": []}])] == []

    def test_reads_need_the_key_when_reads_are_not_public(self) -> None:
        closed = create_app(
            Settings(
                env="test", public_read=False, database_url="postgresql://nobody@127.0.0.1:1/none"
            )
        ).openapi()
        assert closed["paths"]["/v1/jurisdictions"]["get"]["security"] == [{"apiKey": []}]
        assert closed["paths"]["/v1/scenarios/evaluate"]["post"]["security"] == [{"apiKey": []}]
        assert closed["paths"]["/v1"]["get"]["security"] == []

    def test_json_reads_document_json_only(self, spec: dict[str, Any]) -> None:
        mixed = [
            f"{method} {path}"
            for method, path, operation in _operations(spec)
            if not path.endswith(".csv")
            and path != "/v1/export"
            and (
                set(operation["responses"].get("200", {}).get("content", {})) - {"application/json"}
                or any(p["name"] == "format" for p in operation.get("parameters", []))
            )
        ]
        assert mixed == []

    def test_the_export_is_a_zip(self, spec: dict[str, Any]) -> None:
        operation = spec["paths"]["/v1/export"]["get"]
        assert operation["operationId"] == "exportDataset"
        assert operation["security"] == []
        assert operation["responses"]["200"]["content"] == {
            "application/zip": {"schema": {"type": "string", "format": "binary"}}
        }

    def test_csv_is_documented_on_csv_paths(self, spec: dict[str, Any]) -> None:
        csv_paths = {path: item for path, item in spec["paths"].items() if path.endswith(".csv")}
        assert len(csv_paths) == 15
        for path, item in csv_paths.items():
            assert list(item) == ["get"]
            json_read = spec["paths"][path.removesuffix(".csv")]["get"]
            assert item["get"]["operationId"] == f"{json_read['operationId']}Csv"
            assert item["get"]["responses"]["200"]["content"] == {
                "text/csv": {"schema": {"type": "string"}}
            }
            assert item["get"]["parameters"] == json_read.get("parameters", [])

    def test_values_are_typed_as_the_union_they_are(self, spec: dict[str, Any]) -> None:
        schemas = spec["components"]["schemas"]
        scalar = [{"type": "boolean"}, {"type": "number"}, {"type": "string"}]
        typed = {
            f"{name}.{field}": schemas[name]["properties"][field]["anyOf"]
            for name, field in [
                ("FeatureValueRead", "value"),
                ("FeatureValueWrite", "value"),
                ("FeatureCell", "value"),
                ("ComponentScoreRead", "raw"),
                ("ComponentState", "raw"),
                ("Override", "value"),
            ]
        }
        assert typed == {
            "FeatureValueRead.value": scalar,
            "FeatureValueWrite.value": scalar,
            "FeatureCell.value": scalar,
            "ComponentScoreRead.raw": [*scalar, {"type": "null"}],
            "ComponentState.raw": [*scalar, {"type": "null"}],
            "Override.value": [*scalar, {"type": "null"}],
        }
        record = [{"type": "object", "additionalProperties": True}, {"type": "null"}]
        assert schemas["ChangeRead"]["properties"]["before"]["anyOf"] == record
        assert schemas["ChangeRead"]["properties"]["after"]["anyOf"] == record

    def test_no_untyped_property(self, spec: dict[str, Any]) -> None:
        untyped = [
            f"{name}.{field}"
            for name, schema in spec["components"]["schemas"].items()
            for field, prop in schema.get("properties", {}).items()
            if not {"type", "$ref", "anyOf", "allOf", "oneOf", "enum", "const"} & set(prop)
        ]
        assert untyped == []

    def test_next_cursor_is_required_and_nullable(self, spec: dict[str, Any]) -> None:
        pages = {
            name: schema
            for name, schema in spec["components"]["schemas"].items()
            if "next_cursor" in schema.get("properties", {})
        }
        assert len(pages) == 12
        assert [n for n, s in pages.items() if "next_cursor" not in s["required"]] == []
        assert {str(s["properties"]["next_cursor"]["anyOf"]) for s in pages.values()} == {
            str([{"type": "string"}, {"type": "null"}])
        }

    def test_servers_default_to_the_local_server(self, spec: dict[str, Any]) -> None:
        assert [server["url"] for server in spec["servers"]] == ["http://127.0.0.1:8000"]

    def test_servers_come_from_the_public_url(self) -> None:
        document = create_app(
            Settings(
                env="test",
                public_url="https://api.example.org/",
                database_url="postgresql://nobody@127.0.0.1:1/none",
            )
        ).openapi()
        assert [server["url"] for server in document["servers"]] == ["https://api.example.org"]

    def test_no_split_input_output_schemas(self, spec: dict[str, Any]) -> None:
        names = list(spec["components"]["schemas"])
        assert [n for n in names if re.search(r"-?(Input|Output)$", n)] == []

    def test_every_reference_resolves(self, spec: dict[str, Any]) -> None:
        def resolves(ref: str) -> bool:
            _, kind, name = ref.removeprefix("#/").split("/")
            return name in spec[_].get(kind, {})

        assert {ref for ref in _schema_refs(spec) if not resolves(ref)} == set()

    def test_response_headers_are_declared(self, spec: dict[str, Any]) -> None:
        def names(method: str, path: str, status: str) -> list[str]:
            response = spec["paths"][path][method]["responses"][status]
            return sorted(ref["$ref"].split("/")[-1] for ref in response["headers"].values())

        rate = ["Cache-Control", "RateLimit", "RateLimit-Policy"]
        assert names("get", "/v1/jurisdictions", "200") == sorted([*rate, "ETag", "Link"])
        assert names("get", "/v1/jurisdictions", "304") == sorted([*rate, "ETag", "Link"])
        assert names("get", "/v1/jurisdictions.csv", "200") == sorted([*rate, "ETag", "Link"])
        assert names("get", "/v1/jurisdictions/{code}", "200") == sorted([*rate, "ETag"])
        assert names("get", "/v1/jurisdictions/{code}", "404") == rate
        assert names("get", "/v1/jurisdictions/{code}", "429") == sorted([*rate, "Retry-After"])
        assert names("get", "/v1/jurisdictions/{code}", "503") == sorted([*rate, "Retry-After"])
        assert names("put", "/v1/sources/{id}", "201") == sorted([*rate, "ETag", "Location"])
        assert set(spec["components"]["headers"]) == {
            "ETag",
            "Cache-Control",
            "Link",
            "Location",
            "Retry-After",
            "RateLimit-Policy",
            "RateLimit",
        }
        undeclared = [
            f"{method} {path} {status}"
            for method, path, operation in _operations(spec)
            if path.startswith("/v1")
            for status, response in operation["responses"].items()
            if not {"RateLimit", "RateLimit-Policy"} <= set(response.get("headers", {}))
        ]
        assert undeclared == []


@pytest.fixture(scope="module")
def generated(spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The client generated by openapi-python-client, importable as `juriscope_client`.

    Yields (package module, generator output)."""
    workdir = tmp_path_factory.mktemp("sdk")
    (workdir / "openapi.json").write_text(json.dumps(spec))
    # No post hooks: formatting the generated code is not what is under test, and a hook
    # that cannot run is reported as a warning.
    # The zip download is binary to the generator (its documented override).
    (workdir / "config.json").write_text(
        json.dumps(
            {
                "post_hooks": [],
                "content_type_overrides": {"application/zip": "application/octet-stream"},
            }
        )
    )
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(workdir / "openapi.json"),
            "--output-path",
            str(workdir / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(workdir / "config.json"),
        ],
        capture_output=True,
        text=True,
        cwd=workdir,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    sys.path.insert(0, str(workdir))
    try:
        yield importlib.import_module(PACKAGE), output
    finally:
        sys.path.remove(str(workdir))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


# A user's program on the generated client: public reads with a plain `Client` (no key),
# values typed as the union they are, `next_cursor` always present.
USER_PROGRAM = """
from juriscope_client import Client
from juriscope_client.api.compare import compare_jurisdictions
from juriscope_client.api.features import list_feature_values
from juriscope_client.api.indices import get_index_scores
from juriscope_client.api.jurisdictions import get_jurisdiction, list_jurisdictions
from juriscope_client.api.scenarios import evaluate_scenario
from juriscope_client.models import (
    Comparison,
    FeatureValueList,
    IndexScores,
    JurisdictionList,
    JurisdictionProfile,
    Override,
    Problem,
    ScenarioRequest,
    ScenarioResult,
)


def codes(client: Client) -> list[str]:
    found: list[str] = []
    cursor: str | None = None
    while True:
        page = list_jurisdictions.sync(client=client, cursor=cursor)
        assert isinstance(page, JurisdictionList)
        found += [j.code for j in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return found


def reads(client: Client) -> None:
    profile = get_jurisdiction.sync("HK", client=client)
    if isinstance(profile, Problem):
        print(profile.detail)
    elif isinstance(profile, JurisdictionProfile):
        print(profile.name)
    values = list_feature_values.sync("regulatory_sandbox", client=client)
    assert isinstance(values, FeatureValueList)
    value: bool | float | str = values.items[0].value
    print(value)
    compared = compare_jurisdictions.sync(client=client, jurisdictions="HK,SG")
    assert isinstance(compared, Comparison)
    scores = get_index_scores.sync("va_hub_competitiveness", client=client)
    assert isinstance(scores, IndexScores)
    best: float | None = scores.items[0].score
    print(best)
    result = evaluate_scenario.sync(
        client=client,
        body=ScenarioRequest(
            index="va_hub_competitiveness",
            jurisdiction="HK",
            overrides=[Override(feature="corporate_income_tax_pct", value=9)],
        ),
    )
    assert isinstance(result, ScenarioResult)


reads(Client(base_url="http://127.0.0.1:8000"))
print(codes(Client(base_url="http://127.0.0.1:8000")))
"""


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


class TestGeneratedClient:
    def test_generator_prints_no_warnings(self, generated: Any) -> None:
        _, output = generated
        assert "warning" not in output.lower(), output

    def test_public_reads_with_a_plain_client_pass_mypy_strict(
        self, generated: Any, tmp_path: Path
    ) -> None:
        package, _ = generated
        program = tmp_path / "program.py"
        program.write_text(USER_PROGRAM)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--strict",
                "--no-incremental",
                "--cache-dir",
                "/dev/null",
                str(program),
            ],
            capture_output=True,
            text=True,
            cwd=Path(package.__file__).parent.parent,
            env={**os.environ, "MYPYPATH": str(Path(package.__file__).parent.parent)},
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def test_every_operation_has_a_module(self, generated: Any, spec: dict[str, Any]) -> None:
        for _, _, operation in _operations(spec):
            tag = operation["tags"][0]
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", operation["operationId"]).lower()
            assert hasattr(_module(f"api.{tag}.{snake}"), "asyncio_detailed"), snake

    def test_no_anonymous_generated_types(self, generated: Any) -> None:
        package, _ = generated
        models = Path(package.__file__).parent / "models"
        anonymous = [p.stem for p in models.glob("*_type_*.py")]
        assert sorted(s for s in anonymous if "_format_" in s or "_entity_" in s) == []

    async def test_lists_jurisdictions_and_gets_a_feature(
        self, generated: Any, app: Any, session: AsyncSession
    ) -> None:
        package, _ = generated
        await vacate_region(session)
        await create_jurisdiction(session, "XA", name="Zedland Alpha", region="africa")
        await create_jurisdiction(session, "ZB", name="Zedland Beta", region="africa")
        await create_feature(session, "zz_flag", category="innovation")
        region = _module("models.region").Region
        list_jurisdictions = _module("api.jurisdictions.list_jurisdictions")
        get_feature = _module("api.features.get_feature")
        problem = _module("models.problem").Problem

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as http:
            client = package.Client(base_url="http://test").set_async_httpx_client(http)

            page = await list_jurisdictions.asyncio(client=client, region=region("africa"))
            assert type(page).__name__ == "JurisdictionList"
            assert [(j.code, j.name) for j in page.items] == [
                ("XA", "Zedland Alpha"),
                ("ZB", "Zedland Beta"),
            ]
            assert page.next_cursor is None

            first = await list_jurisdictions.asyncio_detailed(
                client=client, region=region("africa"), limit=1
            )
            assert first.status_code == 200
            assert [j.code for j in first.parsed.items] == ["XA"]
            rest = await list_jurisdictions.asyncio(
                client=client, region=region("africa"), cursor=first.parsed.next_cursor
            )
            assert [j.code for j in rest.items] == ["ZB"]

            feature = await get_feature.asyncio(key="ZZ_FLAG", client=client)
            assert type(feature).__name__ == "FeatureRead"
            assert (feature.key, feature.category.value, feature.value_type.value) == (
                "zz_flag",
                "innovation",
                "boolean",
            )
            assert feature.higher_is_better is True

            index = await _module("api.discovery.get_api_index").asyncio(client=client)
            assert type(index).__name__ == "ApiIndex"
            assert (index.name, index.links.jurisdictions) == ("Juriscope", "/v1/jurisdictions")

            missing = await get_feature.asyncio_detailed(key="zz_nope", client=client)
            assert missing.status_code == 404
            assert isinstance(missing.parsed, problem)
            assert missing.parsed.detail == "No feature with key 'zz_nope'."
