from enum import StrEnum
from typing import Literal, get_args

from sqlalchemy import CheckConstraint, ForeignKey, Identity, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.models import CODE_PATTERN, SLUG_PATTERN, CreatedAt, UpdatedAt, in_check


class JurisdictionKind(StrEnum):
    country = "country"
    territory = "territory"
    subdivision = "subdivision"
    supranational = "supranational"
    special_zone = "special_zone"


class Region(StrEnum):
    asia_pacific = "asia_pacific"
    middle_east = "middle_east"
    europe = "europe"
    north_america = "north_america"
    latin_america_caribbean = "latin_america_caribbean"
    africa = "africa"


class Jurisdiction(Base):
    __tablename__ = "jurisdiction"
    __table_args__ = (
        CheckConstraint(f"code ~ '{CODE_PATTERN}'", name="code"),
        CheckConstraint(in_check("kind", JurisdictionKind), name="kind"),
        CheckConstraint(in_check("region", Region), name="region"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
        CheckConstraint("parent_id <> id", name="not_own_parent"),
        Index(None, "parent_id"),
        Index(
            "jurisdiction_name_trgm_idx",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("jurisdiction.id", ondelete="RESTRICT")
    )
    region: Mapped[str] = mapped_column(Text)
    currency: Mapped[str | None] = mapped_column(String(3))
    summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]


# What a regulator may oversee: the API's vocabulary (app.jurisdictions.records uses it) and the
# database's CHECK, so rows that arrive by SQL or COPY are held to it too.
Remit = Literal[
    "securities",
    "banking",
    "virtual_assets",
    "aml",
    "tax",
    "payments",
    "insurance",
    "consumer_protection",
    "commodities",
    "stablecoins",
    "data_protection",
    "immigration",
]
REMITS: tuple[str, ...] = get_args(Remit)
REMIT_CHECK = "remit <@ ARRAY[" + ", ".join(f"'{r}'" for r in REMITS) + "]::text[]"


class Regulator(Base):
    __tablename__ = "regulator"
    __table_args__ = (
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug"),
        CheckConstraint(REMIT_CHECK, name="remit"),
        Index(None, "jurisdiction_id"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    slug: Mapped[str] = mapped_column(Text, unique=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    acronym: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    remit: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
