"""Add saved scenarios: a what-if of one jurisdiction on one index, with its sources.

The database holds what it can of a scenario's rules: the id's pattern, a non-blank name,
overrides as a JSON array of at most 200 and weights as a JSON object. That each override
names a feature or metric and fits its type is checked by the application (the same rules
as POST /v1/scenarios/evaluate), since a JSON document cannot carry foreign keys.

Revision ID: 6d2f4b8a1c93
Revises: 6b2d8e4f1a37
Create Date: 2026-11-29 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "6d2f4b8a1c93"
down_revision: str | None = "6b2d8e4f1a37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scenario",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("index_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("overrides", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("weights", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("scenario_slug_check")),
        sa.CheckConstraint("btrim(name) <> ''", name=op.f("scenario_name_check")),
        sa.CheckConstraint(
            "jsonb_typeof(overrides) = 'array' AND jsonb_array_length(overrides) <= 200",
            name=op.f("scenario_overrides_check"),
        ),
        sa.CheckConstraint("jsonb_typeof(weights) = 'object'", name=op.f("scenario_weights_check")),
        sa.ForeignKeyConstraint(
            ["index_id"],
            ["composite_index.id"],
            name=op.f("scenario_index_id_fkey"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdiction.id"],
            name=op.f("scenario_jurisdiction_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("scenario_pkey")),
        sa.UniqueConstraint("slug", name=op.f("scenario_slug_key")),
    )
    op.create_index(op.f("scenario_index_id_idx"), "scenario", ["index_id"], unique=False)
    op.create_index(
        op.f("scenario_jurisdiction_id_idx"), "scenario", ["jurisdiction_id"], unique=False
    )
    op.create_table(
        "scenario_source",
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenario.id"],
            name=op.f("scenario_source_scenario_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("scenario_source_source_id_fkey"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("scenario_id", "source_id", name=op.f("scenario_source_pkey")),
    )
    op.create_index(
        op.f("scenario_source_source_id_idx"), "scenario_source", ["source_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("scenario_source_source_id_idx"), table_name="scenario_source")
    op.drop_table("scenario_source")
    op.drop_index(op.f("scenario_jurisdiction_id_idx"), table_name="scenario")
    op.drop_index(op.f("scenario_index_id_idx"), table_name="scenario")
    op.drop_table("scenario")
