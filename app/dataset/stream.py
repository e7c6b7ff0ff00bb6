"""Datasets read record by record: a million observations are never held in memory at once.

A source gives, per entity type, its raw records in input order and the file name its issues
carry. JSON arrays are parsed one element at a time (the standard library's decoder on a
sliding buffer), CSV files row by row.
"""

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from app.dataset.io import (
    DatasetInvalid,
    Issue,
    _attach_regulators,
    _from_cell,
    rows_from_csv,
)
from app.dataset.schemas import ENTITY_FILES

_CHUNK = 1 << 20
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
# White space, then what follows an element: another one or the end of the array.
_AFTER = re.compile(r"[ \t\n\r]*([,\]])")


def iter_json_array(path: Path) -> Iterator[Any]:
    """The elements of the JSON array in `path`, one at a time; DatasetInvalid naming the file
    when it is not an array or not valid JSON."""

    def invalid(message: str) -> DatasetInvalid:
        return DatasetInvalid([Issue(file=path.name, message=message)])

    with path.open(encoding="utf-8") as handle:
        buffer, position, eof = "", 0, False

        def fill() -> bool:
            """Append the next chunk (dropping what was read); False at the end of the file."""
            nonlocal buffer, position, eof
            chunk = "" if eof else handle.read(_CHUNK)
            eof = not chunk
            buffer, position = buffer[position:] + chunk, 0
            return not eof

        def skip_space() -> str:
            """The next character that is not white space ('' at the end of the file)."""
            nonlocal position
            while True:
                position = _SPACE.match(buffer, position).end()  # type: ignore[union-attr]
                if position < len(buffer):
                    return buffer[position]
                if not fill():
                    return ""

        if skip_space() != "[":
            raise invalid("not valid JSON: expected an array of records")
        position += 1
        if skip_space() == "]":
            position += 1
        else:
            while True:
                skip_space()
                while True:
                    try:
                        element, end = _DECODER.raw_decode(buffer, position)
                    except json.JSONDecodeError as error:
                        if fill():
                            continue
                        raise invalid(f"not valid JSON: {error}") from None
                    # A number at the end of the buffer may go on in the next chunk.
                    if end == len(buffer) and fill():
                        continue
                    break
                yield element
                after = _AFTER.match(buffer, end)
                while after is None and _SPACE.match(buffer, end).end() == len(buffer):  # type: ignore[union-attr]
                    position = end
                    if not fill():
                        break
                    end, after = 0, _AFTER.match(buffer, 0)
                if after is None:
                    raise invalid("not valid JSON: expected ',' or ']' after a record")
                position = after.end()
                if after.group(1) == "]":
                    break
        if skip_space() != "":
            raise invalid("not valid JSON: extra data after the array")


def iter_csv_rows(path: Path, entity: str) -> Iterator[dict[str, Any]]:
    """The rows of an entity's CSV file as raw records, as `rows_from_csv` reads them."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        try:
            for row in reader:
                yield {k: _from_cell(k, v or "", entity) for k, v in row.items() if k}
        except csv.Error as error:
            raise ValueError(f"{entity} CSV line {reader.line_num}: {error}") from None


class RecordSource(Protocol):
    """Where a dataset's records come from, entity by entity."""

    def entities(self) -> list[str]:
        """The entity types present, in load order."""
        ...

    def raws(self, entity: str) -> Iterator[Any]:
        """The raw records of `entity` in input order (raises DatasetInvalid when the list
        itself is broken)."""
        ...

    def file(self, entity: str) -> str:
        """The file name that issues of `entity`'s records carry."""
        ...


class DirectorySource:
    """A dataset directory as `juriscope export` writes it: one JSON or CSV file per entity
    (and regulators.csv beside a CSV jurisdictions file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, Path] = {}
        for entity in ENTITY_FILES:
            for suffix in (".json", ".csv"):
                if (path / f"{entity}{suffix}").exists():
                    self.files[entity] = path / f"{entity}{suffix}"
                    break

    def entities(self) -> list[str]:
        return list(self.files)

    def size(self, *entities: str) -> int:
        """The bytes of the files of `entities`."""
        return sum(self.files[e].stat().st_size for e in entities if e in self.files)

    def file(self, entity: str) -> str:
        return self.files[entity].name

    def raws(self, entity: str) -> Iterator[Any]:
        path = self.files[entity]
        if path.suffix == ".json":
            yield from iter_json_array(path)
            return
        if entity != "jurisdictions" or not (self.path / "regulators.csv").exists():
            yield from iter_csv_rows(path, entity)
            return
        rows = list(iter_csv_rows(path, entity))
        regulators = rows_from_csv("regulators", (self.path / "regulators.csv").read_text())
        _attach_regulators(rows, regulators)
        yield from rows


class MappingSource:
    """A dataset already parsed into `{"sources": [...], ...}` (a request body)."""

    def __init__(self, payload: dict[str, Any], *, file: str = "") -> None:
        self.payload = payload
        self.prefix = file

    def entities(self) -> list[str]:
        return [e for e in ENTITY_FILES if e in self.payload]

    def file(self, entity: str) -> str:
        return f"{self.prefix}:{entity}"

    def raws(self, entity: str) -> Iterator[Any]:
        records = self.payload[entity]
        if not isinstance(records, list):
            raise DatasetInvalid(
                [Issue(file=self.file(entity), message=f"{entity} must be a list of records")]
            )
        yield from records
