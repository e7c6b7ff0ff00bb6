"""Database-level rules of feature values."""

from datetime import date

import asyncpg
import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import create_feature, create_feature_value, create_jurisdiction


def _constraint(error: IntegrityError) -> str | None:
    """The constraint asyncpg names in the error under SQLAlchemy's."""
    cause = error.orig.__cause__ if error.orig is not None else None
    assert isinstance(cause, asyncpg.PostgresError), error
    name: str | None = cause.constraint_name
    return name


class TestFeatureValueIntervals:
    async def test_overlapping_intervals_are_rejected(self, session: AsyncSession) -> None:
        land = await create_jurisdiction(session, "ZZ")
        feature = await create_feature(session, "zz_flag")
        await create_feature_value(
            session, land, feature, True, valid_from=date(2020, 1, 1), valid_to=date(2023, 1, 1)
        )
        with pytest.raises(IntegrityError) as caught:
            async with session.begin_nested():
                await create_feature_value(
                    session, land, feature, False, valid_from=date(2022, 6, 1)
                )
        assert _constraint(caught.value) == "feature_value_no_overlap"

    async def test_adjacent_intervals_are_allowed(self, session: AsyncSession) -> None:
        land = await create_jurisdiction(session, "ZZ")
        feature = await create_feature(session, "zz_flag")
        await create_feature_value(
            session, land, feature, True, valid_from=date(2020, 1, 1), valid_to=date(2023, 1, 1)
        )
        later = await create_feature_value(
            session, land, feature, False, valid_from=date(2023, 1, 1)
        )
        assert later.id is not None

    async def test_other_jurisdictions_may_overlap(self, session: AsyncSession) -> None:
        feature = await create_feature(session, "zz_flag")
        for code in ("ZZ", "ZY"):
            land = await create_jurisdiction(session, code)
            await create_feature_value(session, land, feature, True)

    async def test_interval_must_not_end_before_it_starts(self, session: AsyncSession) -> None:
        land = await create_jurisdiction(session, "ZZ")
        feature = await create_feature(session, "zz_flag")
        with pytest.raises(IntegrityError) as caught:
            async with session.begin_nested():
                await create_feature_value(
                    session,
                    land,
                    feature,
                    True,
                    valid_from=date(2023, 1, 1),
                    valid_to=date(2022, 1, 1),
                )
        assert _constraint(caught.value) == "feature_value_interval_check"


class TestJurisdictionCode:
    async def test_lowercase_code_is_rejected(self, session: AsyncSession) -> None:
        with pytest.raises(IntegrityError) as caught:
            async with session.begin_nested():
                await create_jurisdiction(session, "hk")
        assert _constraint(caught.value) == "jurisdiction_code_check"
