from datetime import date
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Double,
    ForeignKey,
    Identity,
    Index,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.models import (
    KEY_PATTERN,
    Bound,
    CheckedOn,
    Confidence,
    CreatedAt,
    UpdatedAt,
    in_check,
)


class Frequency(StrEnum):
    annual = "annual"
    quarterly = "quarterly"
    monthly = "monthly"
    daily = "daily"
    irregular = "irregular"


class Metric(Base):
    __tablename__ = "metric"
    __table_args__ = (
        CheckConstraint(f"key ~ '{KEY_PATTERN}'", name="key"),
        CheckConstraint(in_check("frequency", Frequency), name="frequency"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    higher_is_better: Mapped[bool | None]
    frequency: Mapped[str] = mapped_column(Text)
    bilateral: Mapped[bool] = mapped_column(server_default="false")
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class Observation(Base):
    __tablename__ = "observation"
    __table_args__ = (
        CheckConstraint(in_check("confidence", Confidence), name="confidence"),
        CheckConstraint(in_check("bound", Bound), name="bound"),
        CheckConstraint("period_end >= period_start", name="period"),
        CheckConstraint(r"period ~ '^\d{4}(-Q[1-4]|-\d{2}(-\d{2})?)?$'", name="period_format"),
        CheckConstraint("counterpart_id IS DISTINCT FROM jurisdiction_id", name="counterpart"),
        UniqueConstraint(
            "jurisdiction_id",
            "metric_id",
            "period",
            "counterpart_id",
            postgresql_nulls_not_distinct=True,
        ),
        Index(None, "metric_id", "jurisdiction_id", "period_start"),
        # A jurisdiction's observations, and its latest per metric (profile, compare, scores).
        Index(None, "jurisdiction_id", "metric_id", "period_end"),
        Index(None, "counterpart_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id", ondelete="CASCADE"))
    metric_id: Mapped[int] = mapped_column(ForeignKey("metric.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(Text)
    period_start: Mapped[date]
    period_end: Mapped[date]
    value: Mapped[float] = mapped_column(Double)
    counterpart_id: Mapped[int | None] = mapped_column(
        ForeignKey("jurisdiction.id", ondelete="RESTRICT")
    )
    # Null for a point value; otherwise the value is a bound (lt: the true value is below it).
    bound: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[str] = mapped_column(Text)
    checked_on: Mapped[CheckedOn]
    note: Mapped[str | None] = mapped_column(Text)


class ObservationSource(Base):
    __tablename__ = "observation_source"
    __table_args__ = (Index(None, "source_id"),)

    observation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("observation.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("source.id", ondelete="RESTRICT"), primary_key=True
    )
