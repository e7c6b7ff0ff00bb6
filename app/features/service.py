"""Feature definitions and feature values."""

from app.errors import NotFoundError


class FeatureNotFound(NotFoundError):
    def __init__(self, key: str) -> None:
        super().__init__(f"No feature with key {key!r}.")
