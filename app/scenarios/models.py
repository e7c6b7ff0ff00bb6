from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Identity, Index, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.models import SLUG_PATTERN, CreatedAt, UpdatedAt

MAX_OVERRIDES = 200


class Scenario(Base):
    """A saved what-if: overrides of one jurisdiction's values, evaluated on one index."""

    __tablename__ = "scenario"
    __table_args__ = (
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug"),
        CheckConstraint("btrim(name) <> ''", name="name"),
        CheckConstraint(
            "jsonb_typeof(overrides) = 'array'"
            f" AND jsonb_array_length(overrides) <= {MAX_OVERRIDES}",
            name="overrides",
        ),
        CheckConstraint("jsonb_typeof(weights) = 'object'", name="weights"),
        Index(None, "jurisdiction_id"),
        Index(None, "index_id"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    slug: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    index_id: Mapped[int] = mapped_column(ForeignKey("composite_index.id", ondelete="RESTRICT"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id", ondelete="CASCADE"))
    overrides: Mapped[list[Any]] = mapped_column(JSONB)
    weights: Mapped[dict[str, Any]] = mapped_column(JSONB)
    description: Mapped[str | None] = mapped_column(Text)
    rationale: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class ScenarioSource(Base):
    __tablename__ = "scenario_source"
    __table_args__ = (Index(None, "source_id"),)

    scenario_id: Mapped[int] = mapped_column(
        ForeignKey("scenario.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("source.id", ondelete="RESTRICT"), primary_key=True
    )
