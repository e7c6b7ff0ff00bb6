from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Text,
    literal_column,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.models import KEY_PATTERN, CheckedOn, Confidence, CreatedAt, UpdatedAt, in_check


class FeatureCategory(StrEnum):
    licensing = "licensing"
    token_classification = "token_classification"
    stablecoins = "stablecoins"
    innovation = "innovation"
    taxation = "taxation"
    aml_compliance = "aml_compliance"
    market_access = "market_access"
    consumer_protection = "consumer_protection"
    talent = "talent"
    privacy = "privacy"


class ValueType(StrEnum):
    boolean = "boolean"
    enum = "enum"
    integer = "integer"
    number = "number"
    percent = "percent"
    date = "date"
    text = "text"


class Feature(Base):
    __tablename__ = "feature"
    __table_args__ = (
        CheckConstraint(f"key ~ '{KEY_PATTERN}'", name="key"),
        CheckConstraint(in_check("category", FeatureCategory), name="category"),
        CheckConstraint(in_check("value_type", ValueType), name="value_type"),
        CheckConstraint(
            "(value_type = 'enum') = (allowed_values IS NOT NULL)", name="allowed_values"
        ),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    value_type: Mapped[str] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(Text)
    allowed_values: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB(none_as_null=True))
    higher_is_better: Mapped[bool | None]
    description: Mapped[str | None] = mapped_column(Text)
    # Whether jurisdictions below the one holding a value inherit it (migration 6b2d8e4f1a37).
    inherits: Mapped[bool] = mapped_column(server_default=true())
    # Whether a special zone (a financial free zone with its own law) inherits it too
    # (migration 7d3e5a1c9b62).
    reaches_special_zones: Mapped[bool] = mapped_column(server_default=true())
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


class FeatureValue(Base):
    """A jurisdiction's value of a feature over a half-open validity interval [from, to)."""

    __tablename__ = "feature_value"
    __table_args__ = (
        CheckConstraint(in_check("confidence", Confidence), name="confidence"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="interval"),
        ExcludeConstraint(
            (literal_column("jurisdiction_id"), "="),
            (literal_column("feature_id"), "="),
            (literal_column("daterange(valid_from, valid_to)"), "&&"),
            using="gist",
            name="feature_value_no_overlap",
        ),
        Index(None, "feature_id", "valid_from"),
        Index(None, "jurisdiction_id", "feature_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id", ondelete="CASCADE"))
    feature_id: Mapped[int] = mapped_column(ForeignKey("feature.id", ondelete="CASCADE"))
    value: Mapped[Any] = mapped_column(JSONB)
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[str] = mapped_column(Text)
    checked_on: Mapped[CheckedOn]
    created_at: Mapped[CreatedAt]


class FeatureValueSource(Base):
    __tablename__ = "feature_value_source"
    __table_args__ = (Index(None, "source_id"),)

    feature_value_id: Mapped[int] = mapped_column(
        ForeignKey("feature_value.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("source.id", ondelete="RESTRICT"), primary_key=True
    )
