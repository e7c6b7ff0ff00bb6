from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Identity, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.models import CreatedAt


class ApiKey(Base):
    """An API key: only a SHA-256 of the secret is stored, never the key itself."""

    __tablename__ = "api_key"
    __table_args__ = (
        CheckConstraint("scopes <@ ARRAY['write', 'admin']::text[]", name="scopes"),
        CheckConstraint("hash ~ '^[0-9a-f]{64}$'", name="hash"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    public_id: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
