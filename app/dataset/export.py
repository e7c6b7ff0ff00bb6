"""`juriscope export` record by record: rows stream from a server-side cursor into the files,
so exporting a million observations holds one at a time. The files are those of
`write_dataset` (app/dataset/io.py), byte for byte."""

import csv
import json
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.dataset import loader
from app.dataset.io import CSV_COLUMNS, _to_cell
from app.dataset.read import SQL
from app.dataset.schemas import ENTITY_FILES


class _JsonArray:
    """Writes records as `json.dumps(records, ensure_ascii=False, indent=2)` would."""

    def __init__(self, handle: TextIO) -> None:
        self.handle, self.count = handle, 0

    def write(self, record: dict[str, Any]) -> None:
        text = json.dumps(record, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        self.handle.write(("[\n  " if self.count == 0 else ",\n  ") + text)
        self.count += 1

    def close(self) -> None:
        self.handle.write("[]\n" if self.count == 0 else "\n]\n")


class _CsvRows:
    def __init__(self, handle: TextIO, entity: str) -> None:
        self.columns = CSV_COLUMNS[entity]
        self.writer = csv.DictWriter(handle, fieldnames=self.columns, lineterminator="\n")
        self.writer.writeheader()

    def write(self, record: dict[str, Any]) -> None:
        self.writer.writerow({c: _to_cell(c, record.get(c)) for c in self.columns})

    def close(self) -> None:
        pass


async def write_files(
    session: AsyncSession, directory: Path, *, fmt: str, on_stage: loader.Stage | None = None
) -> tuple[int, list[Path]]:
    """Write every entity's stored records into `directory` (JSON or CSV, as write_dataset
    does); the number of records and the files. The directory exists. Files are written
    with blocking calls, between rows of the cursor: a command's own event loop, nothing
    else waits on it."""
    total, files, regulators = 0, [], []
    for entity, model in ENTITY_FILES.items():
        if on_stage is not None:
            on_stage(f"writing {entity}", total)
        path = directory / f"{entity}.{fmt}"
        with path.open("w", encoding="utf-8", newline="" if fmt == "csv" else None) as handle:
            out: _JsonArray | _CsvRows = (
                _JsonArray(handle) if fmt == "json" else _CsvRows(handle, entity)
            )
            select_from, _, order = SQL[entity]
            result = await session.stream(text(f"{select_from} {order}"))
            async for row in result.mappings():
                record = model.model_validate(dict(row)).model_dump(mode="json")
                out.write(record)
                if entity == "jurisdictions":
                    regulators += [
                        {"jurisdiction_code": record["code"], **r} for r in record["regulators"]
                    ]
                total += 1
            out.close()
        files.append(path)
    if fmt == "csv":
        path = directory / "regulators.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            out = _CsvRows(handle, "regulators")
            for regulator in regulators:
                out.write(regulator)
        files.append(path)
    return total, files


async def export_directory_async(
    url: str, directory: Path, *, fmt: str = "json", on_stage: loader.Stage | None = None
) -> tuple[int, list[Path]]:
    """Export the database at `url` into `directory` in one read-only transaction."""

    async def work(session: AsyncSession) -> tuple[int, list[Path]]:
        await session.execute(text("SET TRANSACTION READ ONLY"))
        return await write_files(session, directory, fmt=fmt, on_stage=on_stage)

    result: tuple[int, list[Path]] = await loader.with_session(url, work)
    return result
