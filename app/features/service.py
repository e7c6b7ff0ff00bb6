"""Feature definitions and feature values."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFoundError
from app.features.models import Feature


class FeatureNotFound(NotFoundError):
    def __init__(self, key: str) -> None:
        super().__init__(f"No feature with key {key!r}.")


async def feature_id_for(session: AsyncSession, key: str) -> int:
    """The internal id of a feature key; FeatureNotFound if unknown."""
    feature_id = await session.scalar(select(Feature.id).where(Feature.key == key))
    if feature_id is None:
        raise FeatureNotFound(key)
    return feature_id
