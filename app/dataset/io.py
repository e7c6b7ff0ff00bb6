"""Reading and writing datasets as files: a directory of JSON or CSV files, or one JSON file.

Every record is validated on its own here; an invalid one becomes an `Issue` naming its file,
record number and field, and the rest are still checked so one run reports everything.
"""

import csv
import io
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.core.csv_cells import escape_formula, unescape_formula
from app.core.issues import Issue
from app.dataset.schemas import ENTITY_FILES, Dataset
from app.jurisdictions.records import JurisdictionRecord, RegulatorRecord


class DatasetInvalid(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(f"{len(issues)} invalid record(s)")
        self.issues = issues


def record_key(entity: str, raw: Any) -> str | None:
    """A human-readable identity of a raw record, for reports."""
    if not isinstance(raw, dict):
        return None
    fields = {
        "sources": ("id",),
        "jurisdictions": ("code",),
        "features": ("key",),
        "metrics": ("key",),
        "events": ("id",),
        "indices": ("key",),
        "scenarios": ("id",),
        "feature_values": ("jurisdiction_code", "feature_key", "valid_from"),
        "observations": ("jurisdiction_code", "metric_key", "period", "counterpart_code"),
        "regulators": ("jurisdiction_code", "id"),
    }[entity]
    parts = [str(raw.get(name)) for name in fields if raw.get(name) not in (None, "")]
    return "/".join(parts) or None


def _loc(error: Any) -> str | None:
    loc = [str(part) for part in error.get("loc", ())]
    return ".".join(loc) or None


def validate_records(
    entity: str, raws: Any, file: str, positions: list[int] | None = None
) -> tuple[list[Any], list[Issue]]:
    """Validate raw records of one entity type; return the valid ones and an issue per error
    (and, in `positions`, each valid record's number in the input)."""
    if not isinstance(raws, list):
        return [], [Issue(file=file, message=f"{entity} must be a list of records")]
    records: list[Any] = []
    issues: list[Issue] = []
    for number, raw in enumerate(raws):
        record, found = validate_record(entity, number, raw, file)
        if record is not None:
            records.append(record)
            if positions is not None:
                positions.append(number)
        issues += found
    return records, issues


def validate_record(entity: str, number: int, raw: Any, file: str) -> tuple[Any, list[Issue]]:
    """One raw record of `entity` checked against its record model: the record, or None and
    an issue per error."""
    try:
        return ENTITY_FILES[entity].model_validate(raw), []
    except ValidationError as error:
        return None, [
            Issue(
                file=file,
                record=number,
                key=record_key(entity, raw),
                field=_loc(detail),
                message=detail["msg"],
            )
            for detail in error.errors()
        ]


def unknown_lists(payload: dict[str, Any], *, file: str) -> list[Issue]:
    """An issue naming the keys of `payload` that are no entity list, if there are any."""
    unknown = sorted(set(payload) - set(ENTITY_FILES))
    if not unknown:
        return []
    return [
        Issue(
            file=file,
            message=f"unknown entity lists: {', '.join(unknown)}; "
            f"expected some of {', '.join(ENTITY_FILES)}",
        )
    ]


def dataset_from_mapping(
    payload: Any, *, file: str = "payload", positions: dict[str, list[int]] | None = None
) -> tuple[Dataset, list[Issue]]:
    """A dataset from `{"sources": [...], "jurisdictions": [...], ...}` (any subset): the
    valid records, an issue per invalid one, and (in `positions`) where each valid record
    stood in its list, so later issues can name the input's record numbers."""
    if not isinstance(payload, dict):
        return Dataset(), [Issue(file=file, message="expected an object of entity lists")]
    issues = unknown_lists(payload, file=file)
    parts: dict[str, list[Any]] = {}
    for entity in ENTITY_FILES:
        if entity in payload:
            numbers = positions.setdefault(entity, []) if positions is not None else None
            parts[entity], found = validate_records(
                entity, payload[entity], f"{file}:{entity}", numbers
            )
            issues += found
    return Dataset(**parts), issues


# CSV: one file per entity; lists joined by ";"; structured cells (values, allowed values,
# components) as JSON; regulators in their own file keyed by jurisdiction_code.
LIST_COLUMNS = {"source_ids", "remit"}
JSON_COLUMNS = {"value", "allowed_values", "components", "overrides", "weights"}
CSV_COLUMNS: dict[str, list[str]] = {
    name: [n for n in model.model_fields if n != "regulators"]
    for name, model in ENTITY_FILES.items()
}
CSV_COLUMNS["regulators"] = ["jurisdiction_code", *RegulatorRecord.model_fields]


def _from_cell(column: str, cell: str, entity: str) -> Any:
    cell = unescape_formula(cell)
    if cell == "":
        return [] if column in LIST_COLUMNS else None
    if column in LIST_COLUMNS:
        return [part.strip() for part in cell.split(";") if part.strip()]
    if column in JSON_COLUMNS and not (entity == "observations" and column == "value"):
        try:
            return json.loads(cell)
        except ValueError:
            return cell
    if cell in ("true", "false") and column in (
        "higher_is_better",
        "bilateral",
        "inherits",
        "reaches_special_zones",
    ):
        return cell == "true"
    return cell


def _to_cell(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if column in LIST_COLUMNS:
        return escape_formula(";".join(value))
    if column in JSON_COLUMNS and not isinstance(value, int | float) or isinstance(value, bool):
        return escape_formula(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return escape_formula(value)


def rows_from_csv(entity: str, text: str) -> list[dict[str, Any]]:
    """The rows of a CSV text; ValueError naming the line when it cannot be read (a cell over
    csv's field limit of 128 KiB, a broken quote)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return [{k: _from_cell(k, v or "", entity) for k, v in row.items() if k} for row in reader]
    except csv.Error as error:
        raise ValueError(f"{entity} CSV line {reader.line_num}: {error}") from None


def csv_text(entity: str, rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS[entity], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _to_cell(c, row.get(c)) for c in CSV_COLUMNS[entity]})
    return buffer.getvalue()


def _attach_regulators(raws: list[dict[str, Any]], regulators: list[dict[str, Any]]) -> None:
    by_code: dict[str, list[dict[str, Any]]] = {}
    for regulator in regulators:
        code = str(regulator.pop("jurisdiction_code", "") or "").upper()
        by_code.setdefault(code, []).append(regulator)
    for raw in raws:
        raw["regulators"] = by_code.pop(str(raw.get("code", "")).upper(), [])


def read_path(
    path: Path, positions: dict[str, list[int]] | None = None
) -> tuple[Dataset, list[Issue]]:
    """A dataset from a directory (JSON or CSV files named after entities) or a single file;
    `positions` as in dataset_from_mapping."""
    if path.is_dir():
        payload: dict[str, Any] = {}
        for entity in ENTITY_FILES:
            json_file, csv_file = path / f"{entity}.json", path / f"{entity}.csv"
            if json_file.exists():
                payload[entity] = _read_json(json_file)
            elif csv_file.exists():
                payload[entity] = rows_from_csv(entity, csv_file.read_text(encoding="utf-8"))
        if "jurisdictions" in payload and (path / "regulators.csv").exists():
            _attach_regulators(
                payload["jurisdictions"],
                rows_from_csv("regulators", (path / "regulators.csv").read_text()),
            )
        if not payload:
            return Dataset(), [Issue(file=str(path), message="no dataset files in this directory")]
        return _per_file(payload, path, positions)
    if not path.exists():
        return Dataset(), [Issue(file=str(path), message="no such file or directory")]
    if path.suffix == ".csv":
        entity = path.stem
        if entity not in ENTITY_FILES:
            return Dataset(), [
                Issue(
                    file=path.name,
                    message=f"a CSV file must be named after "
                    f"its entity ({', '.join(ENTITY_FILES)})",
                )
            ]
        rows = rows_from_csv(entity, path.read_text(encoding="utf-8"))
        return _per_file({entity: rows}, path, positions)
    payload_any = _read_json(path)
    if isinstance(payload_any, list) and path.stem in ENTITY_FILES:
        payload_any = {path.stem: payload_any}
    return dataset_from_mapping(payload_any, file=path.name, positions=positions)


def _per_file(
    payload: dict[str, Any], path: Path, positions: dict[str, list[int]] | None
) -> tuple[Dataset, list[Issue]]:
    dataset, issues = dataset_from_mapping(payload, file="", positions=positions)
    for issue in issues:
        entity = issue.file.lstrip(":")
        suffix = ".json" if (path / f"{entity}.json").exists() or path.suffix == ".json" else ".csv"
        issue.file = f"{entity}{suffix}"
    return dataset, issues


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise DatasetInvalid([Issue(file=path.name, message=f"not valid JSON: {error}")]) from None


def dataset_rows(dataset: Dataset) -> dict[str, list[dict[str, Any]]]:
    """Each entity's records as plain JSON-ready dicts (the file format)."""
    return {
        entity: [record.model_dump(mode="json") for record in getattr(dataset, entity)]
        for entity in ENTITY_FILES
    }


def write_dataset(dataset: Dataset, directory: Path, *, fmt: str = "json") -> list[Path]:
    """Write one file per entity type (and regulators.csv for CSV); return the files."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    rows = dataset_rows(dataset)
    for entity, records in rows.items():
        if fmt == "json":
            target = directory / f"{entity}.json"
            target.write_text(
                json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        else:
            target = directory / f"{entity}.csv"
            target.write_text(csv_text(entity, records), encoding="utf-8")
        written.append(target)
    if fmt == "csv":
        regulators = [
            {"jurisdiction_code": j["code"], **r}
            for j in rows["jurisdictions"]
            for r in j["regulators"]
        ]
        target = directory / "regulators.csv"
        target.write_text(csv_text("regulators", regulators), encoding="utf-8")
        written.append(target)
    return written


__all__ = ["DatasetInvalid", "Issue", "JurisdictionRecord", "read_path", "write_dataset"]
