from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Identity, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.models import SLUG_PATTERN, CreatedAt, UpdatedAt, in_check


class SourceKind(StrEnum):
    law = "law"
    regulator = "regulator"
    dataset = "dataset"
    research_report = "research_report"
    news = "news"
    article = "article"


class Source(Base):
    __tablename__ = "source"
    __table_args__ = (
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug"),
        CheckConstraint(in_check("kind", SourceKind), name="kind"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    slug: Mapped[str] = mapped_column(Text, unique=True)
    publisher: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    published_on: Mapped[date | None]
    accessed_on: Mapped[date | None]
    kind: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]
