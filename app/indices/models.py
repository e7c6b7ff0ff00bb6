from enum import StrEnum

from sqlalchemy import CheckConstraint, Double, ForeignKey, Identity, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.models import KEY_PATTERN, CreatedAt, UpdatedAt, in_check


class ComponentKind(StrEnum):
    feature = "feature"
    metric = "metric"


class Transform(StrEnum):
    enum_score = "enum_score"
    boolean = "boolean"
    minmax = "minmax"
    log_minmax = "log_minmax"
    rank = "rank"


class CompositeIndex(Base):
    """A composite score definition (`index` is a reserved word, hence the table name)."""

    __tablename__ = "composite_index"
    __table_args__ = (CheckConstraint(f"key ~ '{KEY_PATTERN}'", name="key"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    methodology: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class IndexComponent(Base):
    __tablename__ = "index_component"
    __table_args__ = (
        CheckConstraint(in_check("kind", ComponentKind), name="kind"),
        CheckConstraint(in_check("transform", Transform), name="transform"),
        CheckConstraint("weight >= 0", name="weight"),
        CheckConstraint(
            "(kind = 'feature' AND feature_id IS NOT NULL AND metric_id IS NULL)"
            " OR (kind = 'metric' AND metric_id IS NOT NULL AND feature_id IS NULL)",
            name="target",
        ),
        Index(None, "feature_id"),
        Index(None, "metric_id"),
    )

    index_id: Mapped[int] = mapped_column(
        ForeignKey("composite_index.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    feature_id: Mapped[int | None] = mapped_column(ForeignKey("feature.id", ondelete="RESTRICT"))
    metric_id: Mapped[int | None] = mapped_column(ForeignKey("metric.id", ondelete="RESTRICT"))
    weight: Mapped[float] = mapped_column(Double)
    transform: Mapped[str] = mapped_column(Text)
