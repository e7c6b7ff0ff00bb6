"""Load datasets into the database and read them back: seed, import and export.

One code path for `juriscope seed`, `juriscope import`, `POST /v1/imports` and the embedded
start. An import upserts by natural key (codes, keys, ids; a feature value by jurisdiction,
feature and valid_from; an observation by jurisdiction, metric, period and counterpart), never
deletes, writes one change record per created or updated entity, and is all-or-nothing.

The work is split by job: `plan` (what a batch touches, creates and changes), `read` (the
stored rows it needs), `validate` (each domain's rules across records) and `write` (each
domain's writer); this module runs them in order, in one transaction. The rules and writers
are the domains' own (app/<domain>/records.py and writes.py), which their services use for
the API's writes too.
"""

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from app.changes import service as changes_service
from app.core.db import async_url, lock_writers
from app.core.issues import Issue
from app.core.rows import Ids
from app.dataset.io import DatasetInvalid, read_path
from app.dataset.plan import plan_writes, renumbered
from app.dataset.read import known_rows, read_database
from app.dataset.schemas import Dataset
from app.dataset.validate import validate_dataset
from app.dataset.write import write_changes, write_plan
from app.jurisdictions.models import Jurisdiction

# Bulk imports (app/dataset/bulk.py) run the same steps: checks on `known_rows`, issues
# `renumbered`, then `write_checked`.
__all__ = [
    "BUNDLED",
    "EntityCounts",
    "ImportReport",
    "Stage",
    "apply_dataset",
    "bundled_dataset",
    "export_async",
    "export_with_version_async",
    "import_async",
    "is_empty",
    "known_rows",
    "renumbered",
    "seed_async",
    "seed_if_empty",
    "with_session",
    "write_checked",
]

BUNDLED = Path(__file__).parent / "data"

Stage = Callable[[str, int], None]


class EntityCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportReport(BaseModel):
    """What an import did (or, with dry_run, would do), per entity type; or why it could not."""

    dry_run: bool
    valid: bool
    counts: dict[str, EntityCounts] = Field(default_factory=dict)
    issues: list[Issue] = Field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(c.created + c.updated for c in self.counts.values())


def bundled_dataset() -> Dataset:
    """The curated dataset shipped in the package; DatasetInvalid if a file is broken."""
    dataset, issues = read_path(BUNDLED)
    if issues:
        raise DatasetInvalid(issues)
    return dataset


async def apply_dataset(
    session: AsyncSession,
    dataset: Dataset,
    *,
    actor: str,
    dry_run: bool = False,
    on_stage: Stage | None = None,
    prior_issues: Sequence[Issue] = (),
    positions: dict[str, list[int]] | None = None,
) -> ImportReport:
    """Validate `dataset` against the stored data and upsert it (unless dry_run).

    Raises DatasetInvalid with every issue when anything is invalid; writes nothing then.
    Flushes, never commits: the caller owns the transaction.
    """
    if not dry_run:
        # First, before any row is read: writers queue here in one order, so a definition and
        # a value written at once are checked one after the other, and nobody deadlocks.
        await lock_writers(session)
    known, stored, ids = await known_rows(session, dataset)
    known.rejected = {issue.key for issue in prior_issues if issue.key}
    issues = [*prior_issues, *renumbered(validate_dataset(dataset, known), positions)]
    if issues:
        raise DatasetInvalid(issues)
    return await write_checked(
        session, dataset, stored, ids, actor=actor, dry_run=dry_run, on_stage=on_stage
    )


async def write_checked(
    session: AsyncSession,
    dataset: Dataset,
    stored: Dataset,
    ids: Ids,
    *,
    actor: str,
    dry_run: bool,
    on_stage: Stage | None,
) -> ImportReport:
    """Upsert a dataset that passed its checks against `stored` (what `known_rows` read), with
    its change records; only the counts with dry_run."""
    plan = plan_writes(dataset, stored)
    report = ImportReport(
        dry_run=dry_run,
        valid=True,
        counts={
            e: EntityCounts(created=len(c), updated=len(u), unchanged=s)
            for e, (c, u, s) in plan.items()
            if c or u or s
        },
    )
    if dry_run or report.changed == 0:
        return report
    await write_plan(session, plan, ids, on_stage=on_stage)
    await write_changes(session, plan, stored, actor=actor)
    await session.flush()
    return report


# Entry points for the CLI and the embedded start --------------------------------------------


async def with_session(url: str, work: Callable[[AsyncSession], Any]) -> Any:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


async def is_empty(session: AsyncSession) -> bool:
    return await session.scalar(select(func.count()).select_from(Jurisdiction)) == 0


async def seed_async(
    url: str, *, if_empty: bool = False, on_stage: Stage | None = None
) -> ImportReport | None:
    """Load the bundled dataset (idempotent); with if_empty, only into an empty database."""
    dataset = bundled_dataset()

    async def work(session: AsyncSession) -> ImportReport | None:
        if if_empty and not await is_empty(session):
            return None
        return await apply_dataset(session, dataset, actor="seed", on_stage=on_stage)

    result: ImportReport | None = await with_session(url, work)
    return result


def seed_if_empty(url: str) -> ImportReport | None:
    return asyncio.run(seed_async(url, if_empty=True))


async def import_async(
    url: str,
    dataset: Dataset,
    *,
    actor: str,
    dry_run: bool,
    on_stage: Stage | None = None,
    prior_issues: Sequence[Issue] = (),
    positions: dict[str, list[int]] | None = None,
) -> ImportReport:
    async def work(session: AsyncSession) -> ImportReport:
        return await apply_dataset(
            session,
            dataset,
            actor=actor,
            dry_run=dry_run,
            on_stage=on_stage,
            prior_issues=prior_issues,
            positions=positions,
        )

    result: ImportReport = await with_session(url, work)
    return result


async def export_with_version_async(url: str) -> tuple[Dataset, int, datetime]:
    """The stored data with the data version and the time it last moved (one transaction)."""

    async def work(session: AsyncSession) -> tuple[Dataset, int, datetime]:
        data = await changes_service.get_data_version(session)
        return await read_database(session), data.version, data.changed_at

    result: tuple[Dataset, int, datetime] = await with_session(url, work)
    return result


async def export_async(url: str) -> Dataset:
    async def work(session: AsyncSession) -> Dataset:
        return await read_database(session)

    result: Dataset = await with_session(url, work)
    return result
