"""The OpenAPI document as clients generate from it: security as it is, `servers`, error
responses on every operation."""

import copy
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from app.core.errors import error_responses, problem_schemas
from app.http.csv_paths import SUFFIX
from app.http.etags import is_api_path

# Operations that need no key even when reads do (JURISCOPE_PUBLIC_READ=false).
ALWAYS_PUBLIC = {"getApiIndex"}
LOCAL_SERVER = "http://127.0.0.1:8000"
KEY_REQUIRED: list[dict[str, list[str]]] = [{"apiKey": []}]


def _security(operation_id: str, *, read: bool, public_read: bool) -> list[Any]:
    """The operation's security requirement: none for a public read, the key otherwise.

    A read still accepts a key when reads are public (it is checked: an unknown key is a
    401), but declaring it optional (`[{}, {apiKey: []}]`) makes generators demand an
    authenticated client for every read."""
    if operation_id in ALWAYS_PUBLIC or (read and public_read):
        return []
    return KEY_REQUIRED


def _header(description: str, example: str, *, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {"description": description, "schema": schema, "example": example}


HEADERS: dict[str, Any] = {
    "ETag": _header(
        "The representation's entity tag: send it back as `If-None-Match` (a 304 when it is "
        "current) or, on a write, as `If-Match`.",
        '"0f3c9a1e5b7d2f4a6c8e0b1d3f5a7c9e"',
    ),
    "Cache-Control": _header(
        "`public, max-age=N` on reads (`private` when reads need a key); `no-store` otherwise.",
        "public, max-age=60",
    ),
    "Link": _header(
        'The next page, `<...>; rel="next"` (RFC 8288); absent on the last page.',
        '</v1/jurisdictions?limit=50&cursor=WyJISyJd>; rel="next"',
    ),
    "Location": _header("Where the created resource is read.", "/v1/sources/hk-sfc-vatp"),
    "Retry-After": {
        "description": "Seconds to wait before sending the request again.",
        "schema": {"type": "integer", "minimum": 1},
        "example": 30,
    },
    "RateLimit-Policy": _header(
        "The caller's quota (IETF RateLimit header fields draft): `q` requests per window of "
        "`w` seconds; `read` for GET, HEAD and the scenario evaluation's budget, `write` for "
        "writes.",
        '"read";q=600;w=60',
    ),
    "RateLimit": _header(
        "What is left of the quota: `r` requests for the next `t` seconds (IETF RateLimit "
        "header fields draft).",
        '"read";r=599;t=60',
    ),
}
RATE_LIMIT_HEADERS = ("RateLimit-Policy", "RateLimit")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _is_list(response: dict[str, Any], schemas: dict[str, Any]) -> bool:
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    if ref is None:
        return False
    return "next_cursor" in schemas[ref.removeprefix("#/components/schemas/")]["properties"]


def _declare_headers(method: str, operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Every header the API sends on a response, declared on it."""
    for status, response in operation["responses"].items():
        headers = response.setdefault("headers", {})
        for name in RATE_LIMIT_HEADERS:
            headers[name] = _ref(name)
        headers["Cache-Control"] = _ref("Cache-Control")
        if method == "get" and status in ("200", "304"):
            headers["ETag"] = _ref("ETag")
            if _is_list(operation["responses"]["200"], schemas):
                headers["Link"] = _ref("Link")
        elif method in ("put", "patch") and status in ("200", "201"):
            headers["ETag"] = _ref("ETag")
        if status == "201":
            headers["Location"] = _ref("Location")
        if status in ("429", "503"):
            headers["Retry-After"] = _ref("Retry-After")


def _models(base: type[BaseModel] = BaseModel) -> Iterator[type[BaseModel]]:
    for model in base.__subclasses__():
        yield model
        yield from _models(model)


def _restore_null_examples(schemas: dict[str, Any]) -> None:
    """Put back the nulls of the models' examples: FastAPI writes the document without any
    null value, which leaves required nullable fields out of the examples."""
    for model in _models():
        extra = model.model_config.get("json_schema_extra")
        name = model.__name__
        if (
            model.__module__.startswith("app.")
            and isinstance(extra, dict)
            and "examples" in extra
            and "examples" in schemas.get(name, {})
        ):
            schemas[name]["examples"] = to_jsonable_python(extra["examples"])


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _drop_unused_schemas(document: dict[str, Any]) -> None:
    """Leave out the schemas nothing refers to (the `format` parameter's enum, once CSV has
    operations of its own)."""
    schemas = document["components"]["schemas"]
    while True:
        used = set(_references(document["paths"])) | {
            name
            for schema_name, schema in schemas.items()
            for name in _references(schema)
            if name != schema_name
        }
        unused = [name for name in schemas if name not in used]
        if not unused:
            return
        for name in unused:
            del schemas[name]


def build_openapi(
    app: FastAPI,
    *,
    description: str,
    tags: list[dict[str, Any]],
    read_operations: Iterable[str],
) -> dict[str, Any]:
    """The OpenAPI document (built once per app). `read_operations` need no key while reads
    are public."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    settings = app.state.settings
    reads = set(read_operations)
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=description,
        routes=app.routes,
        tags=tags,
        servers=[
            {
                "url": settings.public_url or LOCAL_SERVER,
                "description": "This API (JURISCOPE_PUBLIC_URL)"
                if settings.public_url
                else "A local `juriscope serve` (set JURISCOPE_PUBLIC_URL for the public one)",
            }
        ],
    )
    document.setdefault("components", {}).setdefault("schemas", {}).update(problem_schemas())
    every_operation = error_responses(401, 429)
    for path, operations in document["paths"].items():
        if not is_api_path(path):
            for operation in operations.values():
                operation["security"] = []  # the probes never look at a key
            continue
        for operation in operations.values():
            operation_id = operation["operationId"]
            operation["security"] = _security(
                operation_id, read=operation_id in reads, public_read=settings.public_read
            )
            if operation_id in ALWAYS_PUBLIC:
                # Never looks at a key: no 401.
                operation["responses"].setdefault("429", every_operation[429])
                continue
            for status, response in every_operation.items():
                operation["responses"].setdefault(str(status), response)
        if "get" in operations:
            operations["get"]["responses"].setdefault(
                "304", {"description": "Not Modified: the `If-None-Match` ETag is current."}
            )
    _restore_null_examples(document["components"]["schemas"])
    document["components"]["headers"] = HEADERS
    for path, operations in document["paths"].items():
        if is_api_path(path):
            for method, operation in operations.items():
                _declare_headers(method, operation, document["components"]["schemas"])
    document["paths"] = _with_csv_operations(document["paths"])
    _drop_unused_schemas(document)
    app.openapi_schema = document
    return document


def _with_csv_operations(paths: dict[str, Any]) -> dict[str, Any]:
    """Each read that also serves CSV, split in two: the JSON operation documents JSON only
    (no `format`, no text/csv), and `<path>.csv` documents the CSV, with an operationId of
    its own. A generator then types neither body as the other."""
    shaped: dict[str, Any] = {}
    for path, operations in paths.items():
        shaped[path] = operations
        read = operations.get("get")
        if read is None or "text/csv" not in read["responses"]["200"].get("content", {}):
            continue
        del read["responses"]["200"]["content"]["text/csv"]
        read["parameters"] = [p for p in read.get("parameters", []) if p["name"] != "format"]
        as_csv = copy.deepcopy(read)
        as_csv["operationId"] = f"{read['operationId']}Csv"
        as_csv["summary"] = f"{read['summary']} (CSV)"
        as_csv["description"] = (
            f"{read['description']}\n\nThe same as `{path}?format=csv` or `Accept: text/csv`"
            f" on `{path}`: one header row, then one row per item; lists within a cell are "
            "joined by `;`."
        )
        as_csv["responses"]["200"] = {
            "description": "The rows as CSV.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "headers": read["responses"]["200"]["headers"],
        }
        as_csv["responses"].pop("406", None)
        shaped[f"{path}{SUFFIX}"] = {"get": as_csv}
    return shaped
