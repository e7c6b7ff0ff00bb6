"""Bulk imports (COPY into staging, set-wise checks and upserts) hold the loader's rules and
write what it writes, on real databases."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes.models import Change
from app.dataset import bulk, loader
from app.dataset.export import export_directory_async
from app.dataset.io import DatasetInvalid, dataset_from_mapping, write_dataset
from app.dataset.read import read_database
from app.dataset.stream import DirectorySource, MappingSource, iter_json_array
from tests.dataset.sample import sample
from tests.dataset.test_loader import CROSS_RECORD_CASES


def _issues(error: DatasetInvalid) -> list[tuple[Any, ...]]:
    return [(i.file, i.record, i.key, i.field, i.message, i.conflict) for i in error.issues]


async def _small(session: AsyncSession, payload: dict[str, Any]) -> loader.ImportReport:
    positions: dict[str, list[int]] = {}
    dataset, issues = dataset_from_mapping(payload, file="", positions=positions)
    return await loader.apply_dataset(
        session, dataset, actor="t", prior_issues=issues, positions=positions
    )


async def _bulk(session: AsyncSession, payload: dict[str, Any], **options: Any) -> Any:
    return await bulk.import_records(session, MappingSource(payload), actor="t", **options)


async def _changes(session: AsyncSession, since: int) -> list[tuple[Any, ...]]:
    rows = await session.execute(
        select(Change.entity, Change.entity_key, Change.action, Change.before, Change.after)
        .where(Change.id > since)
        .order_by(Change.entity, Change.entity_key)
    )
    return [tuple(row) for row in rows.all()]


class TestSameAsTheLoader:
    async def test_creates_the_same_rows_counts_and_change_records(
        self, session: AsyncSession
    ) -> None:
        before = await session.scalar(select(func.max(Change.id))) or 0
        small = await _small(session, sample())
        small_changes = await _changes(session, before)
        small_rows = await read_database(session)
        await session.rollback()

        before = await session.scalar(select(func.max(Change.id))) or 0
        report = await _bulk(session, sample())
        assert report.model_dump() == small.model_dump()
        assert await _changes(session, before) == small_changes
        assert (await read_database(session)).model_dump() == small_rows.model_dump()

    async def test_importing_again_changes_nothing(self, session: AsyncSession) -> None:
        await _bulk(session, sample())
        before = await session.scalar(select(func.max(Change.id)))
        again = await _bulk(session, sample())
        assert again.changed == 0
        assert again.counts["observations"].unchanged == 3
        assert again.counts["feature_values"].unchanged == 4
        assert await session.scalar(select(func.max(Change.id))) == before

    async def test_update_closes_an_interval_and_opens_the_next(
        self, session: AsyncSession
    ) -> None:
        await _bulk(session, sample())
        payload = sample()
        retail = payload["feature_values"][2]
        retail["valid_to"] = "2024-01-01"
        payload["feature_values"].append(
            {**retail, "value": False, "valid_from": "2024-01-01", "valid_to": None}
        )
        payload["observations"][0]["value"] = 11
        payload["observations"][0]["source_ids"] = ["qb-news-2024", "qa-gazette-2021"]
        before = await session.scalar(select(func.max(Change.id))) or 0
        report = await _bulk(session, payload)
        counts = report.counts
        assert (counts["feature_values"].created, counts["feature_values"].updated) == (1, 1)
        assert (counts["observations"].updated, counts["observations"].unchanged) == (1, 2)
        stored = await read_database(session, ["feature_values", "observations"])
        history = [
            (v.value, str(v.valid_from), v.valid_to and str(v.valid_to))
            for v in stored.feature_values
            if v.feature_key == "qq_retail"
        ]
        assert history == [(True, "2021-06-01", "2024-01-01"), (False, "2024-01-01", None)]
        # The test's own observations (the database also holds the bundled data).
        codes = {o["jurisdiction_code"] for o in payload["observations"]}
        changed = {
            o.value: o.source_ids for o in stored.observations if o.jurisdiction_code in codes
        }
        assert changed[11] == ["qa-gazette-2021", "qb-news-2024"]
        changes = await _changes(session, before)
        assert [(entity, key, action) for entity, key, action, *_ in changes] == [
            ("feature_value", "QA:qq_retail", "update"),
            ("observation", "QA:qq_firms:2023", "update"),
        ]
        _, _, _, history_before, history_after = changes[0]
        assert [v["valid_to"] for v in history_before] == [None]
        assert [v["valid_to"] for v in history_after] == ["2024-01-01", None]
        assert (changes[1][3]["value"], changes[1][4]["value"]) == (4, 11)
        assert changes[1][4]["source_ids"] == ["qa-gazette-2021", "qb-news-2024"]

    async def test_dry_run_writes_nothing(self, session: AsyncSession) -> None:
        before = await session.scalar(select(func.count()).select_from(Change))
        report = await _bulk(session, sample(), dry_run=True)
        assert report.dry_run and report.counts["observations"].created == 3
        assert await session.scalar(select(func.count()).select_from(Change)) == before
        assert (
            await session.scalar(text("SELECT count(*) FROM jurisdiction WHERE code = 'QA'")) == 0
        )


class TestSameIssuesAsTheLoader:
    """One set of rules: every invalid dataset is refused by both paths with the same issues."""

    @pytest.mark.parametrize(("mutate", "expected"), CROSS_RECORD_CASES)
    async def test_cross_record_rules(self, session: AsyncSession, mutate, expected) -> None:  # type: ignore[no-untyped-def]
        payload = sample()
        mutate(payload)
        await self._same_issues(session, payload)

    async def test_record_and_cross_record_issues_together(self, session: AsyncSession) -> None:
        payload = sample()
        payload["feature_values"][3]["value"] = "high"
        payload["observations"][1]["source_ids"] = ["no-such-source"]
        payload["observations"].append(dict(payload["observations"][2], value=-1))
        payload["observations"].append(dict(payload["observations"][2], counterpart_code="QA"))
        payload["observations"].append(dict(payload["observations"][1], jurisdiction_code="QZ"))
        payload["observations"].append(dict(payload["observations"][0], period="2024-13"))
        payload["metrics"][0]["key"] = "Bad Key"
        await self._same_issues(session, payload)

    async def test_stored_intervals_count(self, session: AsyncSession) -> None:
        await _bulk(session, sample())
        payload = {"feature_values": [dict(sample()["feature_values"][1], valid_from="2016-01-01")]}
        payload["feature_values"][0]["valid_to"] = "2017-01-01"
        issues = await self._same_issues(session, payload)
        assert issues == [
            (
                "feature_values.json",
                0,
                "QA/qq_regime/2016-01-01",
                "valid_from",
                "overlaps the interval from 2015-01-01 to 2021-06-01; close it with valid_to first",
                True,
            )
        ]

    async def test_an_entity_that_is_not_a_list(self, session: AsyncSession) -> None:
        payload = dict(sample(), observations={"not": "a list"})
        with pytest.raises(DatasetInvalid) as caught:
            await _bulk(session, payload)
        assert _issues(caught.value) == [
            (":observations", None, None, None, "observations must be a list of records", False)
        ]
        await session.rollback()
        assert await session.scalar(text("SELECT count(*) FROM jurisdiction")) > 0

    async def _same_issues(
        self, session: AsyncSession, payload: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        found = []
        for attempt in (_small, _bulk):
            # Each in a savepoint of its own: a refused import leaves the stored data as it was.
            savepoint = await session.begin_nested()
            with pytest.raises(DatasetInvalid) as caught:
                await attempt(session, payload)
            await savepoint.rollback()
            found.append(_issues(caught.value))
        small, large = found
        assert sorted(large, key=str) == sorted(small, key=str)
        return large


class TestStream:
    def test_json_arrays_are_read_element_by_element(self, tmp_path: Path) -> None:
        records = [{"n": n, "text": "x" * (n % 7), "value": n / 3} for n in range(2000)]
        path = tmp_path / "observations.json"
        path.write_text(json.dumps(records, indent=1))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("app.dataset.stream._CHUNK", 97)  # elements cross chunk borders
            assert list(iter_json_array(path)) == records
        path.write_text(" [ ] ")
        assert list(iter_json_array(path)) == []

    @pytest.mark.parametrize("content", ['{"a": 1}', "[1, 2", "[1 2]", "[1] x", "[{]"])
    def test_broken_json_is_an_issue_naming_the_file(self, tmp_path: Path, content: str) -> None:
        path = tmp_path / "observations.json"
        path.write_text(content)
        with pytest.raises(DatasetInvalid) as caught:
            list(iter_json_array(path))
        assert caught.value.issues[0].file == "observations.json"
        assert caught.value.issues[0].message.startswith("not valid JSON")


async def _export(url: str, directory: Path, fmt: str) -> dict[str, Any]:
    """What `juriscope export` writes into `directory`; the stored data, as records."""
    await asyncio.to_thread(directory.mkdir)
    await export_directory_async(url, directory, fmt=fmt)
    return (await loader.export_async(url)).model_dump(mode="json")


class TestExport:
    @pytest.mark.parametrize("fmt", ["json", "csv"])
    async def test_streamed_files_are_those_of_write_dataset(
        self, database_url: str, tmp_path: Path, fmt: str
    ) -> None:
        await asyncio.to_thread((tmp_path / "streamed").mkdir)
        count, files = await export_directory_async(database_url, tmp_path / "streamed", fmt=fmt)
        dataset = await loader.export_async(database_url)
        written = write_dataset(dataset, tmp_path / "whole", fmt=fmt)
        assert count == sum(dataset.counts().values()) > 0
        assert [f.name for f in files] == [f.name for f in written]
        for streamed, whole in zip(files, written, strict=True):
            assert streamed.read_bytes() == whole.read_bytes(), streamed.name


@pytest.mark.once
class TestRoundTrip:
    @pytest.mark.parametrize("fmt", ["json", "csv"])
    async def test_synthetic_dataset_round_trips_through_export_and_bulk_import(
        self, server_url: str, template_url: str, tmp_path: Path, fmt: str
    ) -> None:
        from bench import generate
        from tests.conftest import _admin, _with_database

        names = [f"juriscope_bulk_{fmt}_{n}" for n in (1, 2)]
        template = template_url.rsplit("/", 1)[-1].split("?")[0]
        await _admin(
            server_url,
            *(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names),
            *(f'CREATE DATABASE "{name}" TEMPLATE "{template}"' for name in names),
        )
        source, target = (_with_database(server_url, name) for name in names)
        try:
            await asyncio.to_thread(generate.ensure_dataset, source, scale=0.005)
            original = await _export(source, tmp_path / "out", fmt)
            assert len(original["observations"]) == 5000
            report = await bulk.import_directory_async(
                target, tmp_path / "out", actor="t", dry_run=False
            )
            assert report.counts["observations"].created == 5000
            assert await _export(target, tmp_path / "again", fmt) == original
            again = await bulk.import_directory_async(
                target, tmp_path / "out", actor="t", dry_run=False
            )
            assert again.changed == 0
        finally:
            await _admin(
                server_url, *(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names)
            )

    def test_a_directory_is_large_by_its_bulk_files(self, tmp_path: Path) -> None:
        assert not bulk.is_large(loader.BUNDLED)
        (tmp_path / "observations.json").write_text(" " * bulk.BULK_BYTES + "[]")
        assert bulk.is_large(tmp_path)
        assert DirectorySource(tmp_path).entities() == ["observations"]
