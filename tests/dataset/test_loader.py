"""Seed, import and export through the one loader, on real databases."""

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.changes.models import Change
from app.dataset import loader
from app.dataset.io import DatasetInvalid, dataset_from_mapping, read_path, write_dataset
from app.dataset.read import read_database
from app.dataset.schemas import Dataset
from app.dataset.validate import Known, validate_dataset
from app.features.records import FeatureValueRecord
from app.metrics.records import ObservationRecord
from tests.dataset.sample import sample

REQUIRED_CODES = {
    "HK",
    "SG",
    "AE",
    "AE-DU",
    "AE-AZ-ADGM",
    "US",
    "US-NY",
    "EU",
    "GB",
    "CH",
    "JP",
    "KR",
    "BM",
    "KY",
    "BS",
    "AU",
    "CA",
    "SV",
}
CATEGORIES = {
    "licensing",
    "token_classification",
    "stablecoins",
    "innovation",
    "taxation",
    "aml_compliance",
    "market_access",
    "consumer_protection",
    "talent",
    "privacy",
}


# Invalid variations of the sample, each with the one issue it gives: (file, record, field).
CROSS_RECORD_CASES = [
    pytest.param(
        lambda p: p["feature_values"][1].update(valid_from="2020-01-01"),
        ("feature_values.json", 1, "valid_from"),
        id="overlap",
    ),
    pytest.param(
        lambda p: p["observations"][2].update(counterpart_code=None),
        ("observations.json", 2, "counterpart_code"),
        id="bilateral-needs-counterpart",
    ),
    pytest.param(
        lambda p: p["observations"][0].update(counterpart_code="QB"),
        ("observations.json", 0, "counterpart_code"),
        id="not-bilateral",
    ),
    pytest.param(
        lambda p: p["jurisdictions"][1].update(parent_code="QZ"),
        ("jurisdictions.json", 1, "parent_code"),
        id="unknown-parent",
    ),
    pytest.param(
        lambda p: p["indices"][0]["components"][0].update(transform="minmax"),
        ("indices.json", 0, "components.0.transform"),
        id="transform-type",
    ),
    pytest.param(
        lambda p: p["events"][0].update(jurisdiction_code="QZ"),
        ("events.json", 0, "jurisdiction_code"),
        id="unknown-jurisdiction",
    ),
    pytest.param(
        lambda p: p["feature_values"][0].update(value="maybe"),
        ("feature_values.json", 0, "value"),
        id="enum-value",
    ),
    pytest.param(
        lambda p: p["feature_values"].append(dict(p["feature_values"][0])),
        ("feature_values.json", 4, None),
        id="duplicate",
    ),
]


def _dataset(payload: dict) -> Dataset:  # type: ignore[type-arg]
    dataset, issues = dataset_from_mapping(payload)
    assert issues == []
    return dataset


class TestBundledDataset:
    def test_validates_with_no_issues(self) -> None:
        dataset, issues = read_path(loader.BUNDLED)
        assert issues == []
        assert validate_dataset(dataset, Known()) == []

    def test_meets_the_coverage_of_the_spec(self) -> None:
        dataset = loader.bundled_dataset()
        assert {j.code for j in dataset.jurisdictions} >= REQUIRED_CODES
        assert len(dataset.features) >= 40
        assert {f.category for f in dataset.features} == CATEGORIES
        assert len(dataset.metrics) >= 12
        assert "va_hub_competitiveness" in {i.key for i in dataset.indices}
        series = Counter((o.jurisdiction_code, o.metric_key) for o in dataset.observations)
        assert sum(1 for n in series.values() if n >= 2) >= 5  # time series, not single points

    def test_every_value_and_observation_names_a_source(self) -> None:
        dataset = loader.bundled_dataset()
        assert all(v.source_ids for v in dataset.feature_values)
        assert all(o.source_ids for o in dataset.observations)
        assert all(e.source_ids for e in dataset.events)

    def test_stays_out_of_the_tests_namespace(self) -> None:
        # Tests search the shared database for their own fictional records ("zz-" sources,
        # X*/Q*/Z* codes); a bundled source whose id, title or publisher contains "zz-"
        # (vn-asiabizz-... once did) would show up in their results.
        dataset = loader.bundled_dataset()
        clashing = [
            s.id
            for s in dataset.sources
            if any("zz-" in (text or "").lower() for text in (s.id, s.title, s.publisher))
        ]
        assert clashing == []

    def test_every_value_and_observation_says_when_it_was_checked(self) -> None:
        dataset = loader.bundled_dataset()
        sources = {s.id: s for s in dataset.sources}
        records: list[FeatureValueRecord | ObservationRecord] = [
            *dataset.feature_values,
            *dataset.observations,
        ]
        for record in records:
            read = [
                accessed
                for i in record.source_ids
                if (accessed := sources[i].accessed_on) is not None
            ]
            # Checked no earlier than the first reading of a source it cites.
            assert read and record.checked_on >= min(read), record

    def test_the_motivating_claims_are_graded_honestly(self) -> None:
        dataset = loader.bundled_dataset()
        talent = [
            o
            for o in dataset.observations
            if o.jurisdiction_code == "HK" and o.metric_key == "crypto_talent_net_outflow_pct"
        ]
        # The column cites a report that cannot be found: shown, graded unverified.
        assert [(o.value, o.confidence) for o in talent] == [(32.0, "unverified")]
        assert talent[0].note and "Chainalysis" in talent[0].note
        destinations = {
            o.counterpart_code: (o.value, o.confidence)
            for o in dataset.observations
            if o.metric_key == "crypto_talent_outflow_destination_share_pct"
            and o.jurisdiction_code == "HK"
        }
        assert destinations == {
            "SG": (45.0, "unverified"),
            "AE-DU": (30.0, "unverified"),
            "US": (15.0, "unverified"),
        }
        capital = [
            (o.jurisdiction_code, o.confidence)
            for o in dataset.observations
            if o.metric_key == "crypto_market_capital_change_pct"
        ]
        assert capital and all(confidence == "unverified" for _, confidence in capital)
        share = next(
            o
            for o in dataset.observations
            if o.metric_key == "licensed_exchange_global_volume_share_pct"
        )
        assert (share.value, share.bound, share.confidence) == (0.5, "lt", "unverified")
        assert any(
            v.confidence == "disputed" and v.jurisdiction_code == "HK"
            for v in dataset.feature_values
        )


class TestSeed:
    async def test_seed_twice_changes_nothing_the_second_time(self, scratch_database: str) -> None:
        first = await loader.seed_async(scratch_database)
        assert first is not None and first.changed > 0
        changes_after_first = await _count(scratch_database, "change")
        second = await loader.seed_async(scratch_database)
        assert second is not None and second.changed == 0
        assert await _count(scratch_database, "change") == changes_after_first

    async def test_if_empty_skips_a_database_with_data(self, scratch_database: str) -> None:
        await loader.import_async(scratch_database, _dataset(sample()), actor="t", dry_run=False)
        assert await loader.seed_async(scratch_database, if_empty=True) is None
        assert await _count(scratch_database, "jurisdiction") == 3


class TestImport:
    async def test_creates_then_reports_unchanged(self, session: AsyncSession) -> None:
        dataset = _dataset(sample())
        report = await loader.apply_dataset(session, dataset, actor="t")
        assert report.counts["feature_values"].created == 4
        again = await loader.apply_dataset(session, dataset, actor="t")
        assert again.changed == 0
        assert again.counts["feature_values"].unchanged == 4

    async def test_writes_one_change_record_per_entity(self, session: AsyncSession) -> None:
        # Feature values are recorded per (jurisdiction, feature) history: QA's two regime
        # intervals are one change.
        before = await session.scalar(select(func.max(Change.id))) or 0
        await loader.apply_dataset(session, _dataset(sample()), actor="tester")
        rows = (
            await session.execute(
                select(Change.entity, Change.action, Change.actor).where(Change.id > before)
            )
        ).all()
        assert Counter(r.entity for r in rows) == {
            "source": 2,
            "jurisdiction": 3,
            "feature": 3,
            "metric": 2,
            "feature_value": 3,
            "observation": 3,
            "event": 1,
            "index": 1,
        }
        assert {(r.action, r.actor) for r in rows} == {("create", "tester")}
        regime = await session.scalar(
            select(Change.after).where(Change.id > before, Change.entity_key == "QA:qq_regime")
        )
        assert regime is not None
        assert [(v["value"], v["valid_from"], v["valid_to"]) for v in regime] == [
            ("none", "2015-01-01", "2021-06-01"),
            ("licence", "2021-06-01", None),
        ]

    async def test_update_closes_an_interval_and_opens_the_next(
        self, session: AsyncSession
    ) -> None:
        await loader.apply_dataset(session, _dataset(sample()), actor="t")
        payload = sample()
        retail = payload["feature_values"][2]
        retail["valid_to"] = "2024-01-01"
        payload["feature_values"].append(
            {**retail, "value": False, "valid_from": "2024-01-01", "valid_to": None}
        )
        report = await loader.apply_dataset(session, _dataset(payload), actor="t")
        assert (
            report.counts["feature_values"].created,
            report.counts["feature_values"].updated,
        ) == (1, 1)
        stored = await read_database(session, ["feature_values"])
        history = [
            (v.value, str(v.valid_from), v.valid_to and str(v.valid_to))
            for v in stored.feature_values
            if v.feature_key == "qq_retail"
        ]
        assert history == [(True, "2021-06-01", "2024-01-01"), (False, "2024-01-01", None)]

    async def test_one_bad_record_writes_nothing_and_is_reported(
        self, session: AsyncSession
    ) -> None:
        payload = sample()
        payload["feature_values"][3]["value"] = "high"  # a percent feature
        payload["observations"][1]["source_ids"] = ["no-such-source"]
        before = await session.scalar(select(func.count()).select_from(Change))
        with pytest.raises(DatasetInvalid) as caught:
            await loader.apply_dataset(session, _dataset(payload), actor="t")
        assert [(i.file, i.record, i.field, i.message) for i in caught.value.issues] == [
            ("feature_values.json", 3, "value", "expected a number, got 'high'"),
            ("observations.json", 1, "source_ids", "unknown source 'no-such-source'"),
        ]
        assert await session.scalar(select(func.count()).select_from(Change)) == before
        assert (
            await session.scalar(text("SELECT count(*) FROM jurisdiction WHERE code = 'QA'")) == 0
        )

    @pytest.mark.parametrize(("mutate", "expected"), CROSS_RECORD_CASES)
    async def test_cross_record_rules(self, session: AsyncSession, mutate, expected) -> None:  # type: ignore[no-untyped-def]
        payload = sample()
        mutate(payload)
        with pytest.raises(DatasetInvalid) as caught:
            await loader.apply_dataset(session, _dataset(payload), actor="t")
        assert [(i.file, i.record, i.field) for i in caught.value.issues] == [expected]

    def test_record_rules_name_file_record_and_field(self) -> None:
        payload = sample()
        payload["observations"][0]["period"] = "2024-13"
        payload["jurisdictions"][0]["code"] = "qatar!"
        payload["features"][0]["surprise"] = 1
        _, issues = dataset_from_mapping(payload, file="upload.json")
        assert [(i.file, i.record, i.field) for i in issues] == [
            ("upload.json:jurisdictions", 0, "code"),
            ("upload.json:features", 0, "surprise"),
            ("upload.json:observations", 0, "period"),
        ]

    async def test_dry_run_writes_nothing(self, session: AsyncSession) -> None:
        report = await loader.apply_dataset(session, _dataset(sample()), actor="t", dry_run=True)
        assert report.dry_run and report.counts["jurisdictions"].created == 3
        assert (
            await session.scalar(text("SELECT count(*) FROM jurisdiction WHERE code = 'QA'")) == 0
        )


class TestRoundTrip:
    @pytest.mark.parametrize("fmt", ["json", "csv"])
    async def test_export_then_import_into_an_empty_database_is_identical(
        self, database_url: str, scratch_database: str, tmp_path: Path, fmt: str
    ) -> None:
        original = await loader.export_async(database_url)
        write_dataset(original, tmp_path, fmt=fmt)
        dataset, issues = read_path(tmp_path)
        assert issues == []
        await loader.import_async(scratch_database, dataset, actor="t", dry_run=False)
        copy = await loader.export_async(scratch_database)
        assert copy.model_dump(mode="json") == original.model_dump(mode="json")
        assert sum(original.counts().values()) > 0

    def test_json_files_are_readable_and_stable(self, tmp_path: Path) -> None:
        dataset = _dataset(sample())
        write_dataset(dataset, tmp_path)
        first = (tmp_path / "features.json").read_text()
        write_dataset(dataset, tmp_path)
        assert (tmp_path / "features.json").read_text() == first
        assert json.loads(first)[0]["key"] == "qq_retail"


async def _count(url: str, table: str) -> int:
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.core.db import async_url

    engine = create_async_engine(async_url(url))
    async with engine.connect() as connection:
        value = await connection.scalar(text(f"SELECT count(*) FROM {table}"))
    await engine.dispose()
    return int(value or 0)
