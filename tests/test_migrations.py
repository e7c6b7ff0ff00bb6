"""The migrations own the schema: they go up, down and up again, and match the models."""

import asyncio
import os
import sys
from typing import get_args

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import app.models  # noqa: F401
from app.cli import migrate
from app.core.db import Base, async_url


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
        names = {row[0] for row in rows}
    await engine.dispose()
    return names


async def test_upgrade_downgrade_upgrade(scratch_database: str) -> None:
    assert "feature_value" in await _tables(scratch_database)

    await asyncio.to_thread(migrate.downgrade, scratch_database, "base")
    assert await _tables(scratch_database) == {"alembic_version"}

    await asyncio.to_thread(migrate.upgrade, scratch_database)
    tables = await _tables(scratch_database)
    assert {"jurisdiction", "feature_value", "observation", "change", "api_key"} <= tables
    current = await asyncio.to_thread(migrate.current_revision_of, scratch_database)
    assert current == migrate.head_revision()


async def test_models_and_migrations_agree(scratch_database: str) -> None:
    engine = create_async_engine(async_url(scratch_database), poolclass=NullPool)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await engine.dispose()
    assert diff == []


async def test_two_upgrades_at_once_take_turns(scratch_database: str) -> None:
    """`serve` and `seed` started together on a fresh database: both succeed, in turn (two
    processes: Alembic's context is one per process)."""
    await asyncio.to_thread(migrate.downgrade, scratch_database, "base")
    env = {**os.environ, "DATABASE_URL": scratch_database}
    command = [sys.executable, "-m", "app.cli", "db", "upgrade"]
    processes = [
        await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = [await process.communicate() for process in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    current = await asyncio.to_thread(migrate.current_revision_of, scratch_database)
    assert current == migrate.head_revision()


async def test_a_remit_outside_the_vocabulary_is_reported_not_guessed(
    scratch_database: str,
) -> None:
    """A database holding data the API would refuse is refused by the migration, with the rows
    named; once fixed, it upgrades."""
    from sqlalchemy.exc import IntegrityError

    from app.jurisdictions.models import REMITS, Remit

    assert set(REMITS) == set(get_args(Remit))
    await asyncio.to_thread(migrate.downgrade, scratch_database, "6d2f4b8a1c93")
    engine = create_async_engine(async_url(scratch_database), poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO jurisdiction (code, name, kind, region) "
                "VALUES ('XR', 'Remitland', 'country', 'europe')"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO regulator (slug, jurisdiction_id, name, remit) SELECT 'xr-cpa', id, "
                "'Consumer authority', ARRAY['consumer'] FROM jurisdiction WHERE code = 'XR'"
            )
        )
    try:
        await asyncio.to_thread(migrate.upgrade, scratch_database)
    except RuntimeError as error:
        assert "XR xr-cpa: ['consumer']" in str(error)
    else:
        raise AssertionError("the migration accepted a remit outside the vocabulary")
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE regulator SET remit = ARRAY['consumer_protection'] WHERE slug = 'xr-cpa'")
        )
    await asyncio.to_thread(migrate.upgrade, scratch_database)
    async with engine.begin() as connection:
        try:
            await connection.execute(
                text("UPDATE regulator SET remit = ARRAY['consumer'] WHERE slug = 'xr-cpa'")
            )
        except IntegrityError as error:
            assert "regulator_remit_check" in str(error)
        else:
            raise AssertionError("SQL stored a remit outside the vocabulary")
    await engine.dispose()


async def test_provenance_backfills_checked_on_and_guards_the_new_grade(
    scratch_database: str,
) -> None:
    """Values stored before `checked_on` existed are checked on the day their sources were
    last read; a downgrade refuses `unverified` rows (naming them) instead of regrading them;
    SQL is held to the bound vocabulary."""
    from sqlalchemy.exc import IntegrityError

    await asyncio.to_thread(migrate.downgrade, scratch_database, "9a41c7e2d5b8")
    engine = create_async_engine(async_url(scratch_database), poolclass=NullPool)
    async with engine.begin() as connection:
        for sql in (
            "INSERT INTO jurisdiction (code, name, kind, region) "
            "VALUES ('XP', 'Provenia', 'country', 'europe')",
            "INSERT INTO feature (key, name, category, value_type) "
            "VALUES ('zz_flag', 'Flag', 'innovation', 'boolean')",
            "INSERT INTO metric (key, name, frequency) VALUES ('zz_firms', 'Firms', 'annual')",
            "INSERT INTO source (slug, publisher, title, kind, accessed_on) "
            "VALUES ('zz-old', 'Gazette', 'Old', 'law', '2026-03-01'), "
            "('zz-new', 'Gazette', 'New', 'law', '2026-05-02')",
            "INSERT INTO feature_value (jurisdiction_id, feature_id, value, valid_from, confidence)"
            " SELECT j.id, f.id, 'true', '2020-01-01', 'verified' FROM jurisdiction j, feature f"
            " WHERE j.code = 'XP' AND f.key = 'zz_flag'",
            "INSERT INTO feature_value_source SELECT v.id, s.id FROM feature_value v, source s",
            "INSERT INTO observation (jurisdiction_id, metric_id, period, period_start, "
            "period_end, value, confidence) SELECT j.id, m.id, '2024', '2024-01-01', "
            "'2024-12-31', 3, 'reported' FROM jurisdiction j, metric m WHERE j.code = 'XP'",
        ):
            await connection.execute(text(sql))
    await asyncio.to_thread(migrate.upgrade, scratch_database)
    async with engine.begin() as connection:
        checked = await connection.scalar(text("SELECT checked_on::text FROM feature_value"))
        assert checked == "2026-05-02"  # the newest reading of its two sources
        assert await connection.scalar(text("SELECT checked_on IS NOT NULL FROM observation"))
        await connection.execute(text("UPDATE observation SET confidence = 'unverified'"))
    try:
        await asyncio.to_thread(migrate.downgrade, scratch_database, "9a41c7e2d5b8")
    except RuntimeError as error:
        assert "1 row(s) are graded 'unverified'" in str(error) and "observation" in str(error)
    else:
        raise AssertionError("the downgrade dropped a grade it cannot hold")
    async with engine.begin() as connection:
        try:
            await connection.execute(text("UPDATE observation SET bound = 'about'"))
        except IntegrityError as error:
            assert "observation_bound_check" in str(error)
        else:
            raise AssertionError("SQL stored a bound outside the vocabulary")
    await engine.dispose()


async def test_a_change_written_by_sql_takes_the_writers_lock_and_its_own_ids(
    scratch_database: str,
) -> None:
    """However a change arrives, its id is drawn under the writers' lock, once per statement:
    a SQL insert waits for a writer that holds the lock and gets ids after that writer's, and
    no client can choose an id."""
    engine = create_async_engine(async_url(scratch_database), poolclass=NullPool)
    insert = text(
        "INSERT INTO change (actor, entity, entity_key, action, after) "
        "SELECT 'sql', 'source', 'zz-' || g, 'create', '{}' FROM generate_series(1, 3) g "
        "RETURNING id"
    )
    try:
        async with engine.connect() as writer, engine.connect() as other:
            await writer.execute(text("SELECT pg_advisory_xact_lock(4801707113)"))
            late = asyncio.create_task(other.execute(insert))
            await asyncio.sleep(0.3)
            assert not late.done()  # waits for the lock
            first = (await writer.execute(insert)).scalars().all()
            await writer.commit()
            second = (await late).scalars().all()
            await other.commit()
            assert max(first) < min(second)
            with pytest.raises(DBAPIError, match="cannot insert a non-DEFAULT value"):
                await other.execute(
                    text(
                        "INSERT INTO change (id, actor, entity, entity_key, action) "
                        "VALUES (1, 'sql', 'source', 'zz', 'create')"
                    )
                )
    finally:
        await engine.dispose()
