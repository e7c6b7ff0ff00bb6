from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Identity, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.models import SLUG_PATTERN, CreatedAt, in_check


class EventKind(StrEnum):
    law_enacted = "law_enacted"
    law_effective = "law_effective"
    licence_granted = "licence_granted"
    consultation = "consultation"
    enforcement = "enforcement"
    policy_announcement = "policy_announcement"
    market_exit = "market_exit"
    market_entry = "market_entry"


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug"),
        CheckConstraint(in_check("kind", EventKind), name="kind"),
        Index(None, "jurisdiction_id", "event_date"),
        Index(None, "event_date"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    slug: Mapped[str] = mapped_column(Text, unique=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id", ondelete="CASCADE"))
    event_date: Mapped[date]
    kind: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]


class EventSource(Base):
    __tablename__ = "event_source"
    __table_args__ = (Index(None, "source_id"),)

    event_id: Mapped[int] = mapped_column(
        ForeignKey("event.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("source.id", ondelete="RESTRICT"), primary_key=True
    )
