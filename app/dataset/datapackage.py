"""The dataset as a Frictionless Data package: one CSV file per table (the `export --format
csv` files) and a `datapackage.json` that describes every table and column and names the
data version. `GET /v1/export` sends it zipped; `juriscope export --format datapackage`
writes the same files into a directory."""

import io
import json
import types
import typing
import zipfile
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from app.dataset.io import CSV_COLUMNS, JSON_COLUMNS, LIST_COLUMNS, csv_text, dataset_rows
from app.dataset.schemas import ENTITY_FILES, Dataset
from app.jurisdictions.records import RegulatorRecord

PROFILE = "tabular-data-package"
DESCRIPTIONS = {
    "sources": "Where every value comes from.",
    "jurisdictions": "Countries, territories, subdivisions, unions and zones.",
    "regulators": "Authorities per jurisdiction (jurisdiction_code names it).",
    "features": "The regulatory taxonomy.",
    "metrics": "Market metrics.",
    "feature_values": "Each jurisdiction's feature values over [valid_from, valid_to).",
    "observations": "Metric observations (panel data).",
    "events": "The regulatory timeline.",
    "indices": "Composite index definitions.",
    "scenarios": "Saved what-if scenarios (overrides and weights as JSON).",
}


def _field_type(annotation: Any) -> str:
    """The Table Schema type of a record field (the type inside Optional/Annotated)."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _field_type(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _field_type(kinds[0]) if len(kinds) == 1 else "string"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation is float:
        return "number"
    if annotation is datetime:
        return "datetime"
    if annotation is date:
        return "date"
    return "string"


def _fields(entity: str, model: type[BaseModel], columns: list[str]) -> list[dict[str, Any]]:
    fields = []
    for column in columns:
        as_json = column in JSON_COLUMNS and not (entity == "observations" and column == "value")
        info = model.model_fields.get(column)
        field: dict[str, Any] = {"name": column, "type": "string"}
        if column in LIST_COLUMNS:
            field["description"] = "A list, its items joined by `;`."
        elif as_json:
            field["description"] = "JSON (a feature value is typed by its feature's value_type)."
        elif info is not None:
            field["type"] = _field_type(info.annotation)
            if info.description:
                field["description"] = info.description
        if info is not None and info.is_required() and not as_json:
            field["constraints"] = {"required": True}
        fields.append(field)
    return fields


def package_files(
    dataset: Dataset, *, data_version: int, data_changed_at: datetime
) -> dict[str, bytes]:
    """The package's files by name: `datapackage.json` and one CSV per table."""
    rows = dataset_rows(dataset)
    rows["regulators"] = [
        {"jurisdiction_code": j["code"], **r}
        for j in rows["jurisdictions"]
        for r in j["regulators"]
    ]
    models: dict[str, type[BaseModel]] = {**ENTITY_FILES, "regulators": RegulatorRecord}
    files: dict[str, bytes] = {}
    resources = []
    for entity in [*ENTITY_FILES, "regulators"]:
        path = f"{entity}.csv"
        files[path] = csv_text(entity, rows[entity]).encode()
        resources.append(
            {
                "name": entity,
                "path": path,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": DESCRIPTIONS[entity],
                "schema": {"fields": _fields(entity, models[entity], CSV_COLUMNS[entity])},
            }
        )
    descriptor = {
        "profile": PROFILE,
        "name": "juriscope",
        "title": "Juriscope: jurisdictions for virtual-asset business",
        "description": "Every value names its sources (sources.csv), its validity dates and "
        "a confidence grade. The terms of use of each source are the source's own.",
        "version": str(data_version),
        "created": data_changed_at.isoformat(),
        "keywords": ["virtual assets", "crypto", "regulation", "jurisdictions"],
        "resources": resources,
    }
    files["datapackage.json"] = (json.dumps(descriptor, indent=2) + "\n").encode()
    return files


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in ["datapackage.json", *sorted(n for n in files if n != "datapackage.json")]:
            # A fixed time: the same data gives the same bytes (and the same ETag).
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()
