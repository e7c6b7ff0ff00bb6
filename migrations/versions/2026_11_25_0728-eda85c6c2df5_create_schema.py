"""Create the schema: jurisdictions, regulators, features and their values over time,
metrics and observations, sources, events, composite indices, changes and API keys.

Revision ID: eda85c6c2df5
Revises:
Create Date: 2026-11-25 07:28:04.310975
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "eda85c6c2df5"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # btree_gist lets the exclusion constraint on feature_value mix `=` on ids with `&&` on
    # date ranges; pg_trgm serves the fuzzy name search of GET /v1/jurisdictions?q=.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("public_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("hash ~ '^[0-9a-f]{64}$'", name=op.f("api_key_hash_check")),
        sa.CheckConstraint(
            "scopes <@ ARRAY['write', 'admin']::text[]", name=op.f("api_key_scopes_check")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("api_key_pkey")),
        sa.UniqueConstraint("public_id", name=op.f("api_key_public_id_key")),
    )
    op.create_table(
        "change",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_key", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column(
            "before", postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True
        ),
        sa.Column(
            "after", postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("change_pkey")),
    )
    op.create_index(
        op.f("change_entity_entity_key_idx"), "change", ["entity", "entity_key"], unique=False
    )
    op.create_table(
        "composite_index",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("methodology", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "key ~ '^[a-z][a-z0-9]*(_[a-z0-9]+)*$'", name=op.f("composite_index_key_check")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("composite_index_pkey")),
        sa.UniqueConstraint("key", name=op.f("composite_index_key_key")),
    )
    op.create_table(
        "feature",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("value_type", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column(
            "allowed_values",
            postgresql.JSONB(none_as_null=True, astext_type=sa.Text()),
            nullable=True,
        ),
        sa.Column("higher_is_better", sa.Boolean(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(value_type = 'enum') = (allowed_values IS NOT NULL)",
            name=op.f("feature_allowed_values_check"),
        ),
        sa.CheckConstraint(
            "category IN ('licensing', 'token_classification', 'stablecoins', 'innovation', 'taxation', 'aml_compliance', 'market_access', 'consumer_protection', 'talent', 'privacy')",
            name=op.f("feature_category_check"),
        ),
        sa.CheckConstraint("key ~ '^[a-z][a-z0-9]*(_[a-z0-9]+)*$'", name=op.f("feature_key_check")),
        sa.CheckConstraint(
            "value_type IN ('boolean', 'enum', 'integer', 'number', 'percent', 'date', 'text')",
            name=op.f("feature_value_type_check"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("feature_pkey")),
        sa.UniqueConstraint("key", name=op.f("feature_key_key")),
    )
    op.create_table(
        "jurisdiction",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "code ~ '^[A-Z]{2}(-[A-Z0-9]{1,8}){0,2}$'", name=op.f("jurisdiction_code_check")
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("jurisdiction_currency_check")),
        sa.CheckConstraint(
            "kind IN ('country', 'territory', 'subdivision', 'supranational', 'special_zone')",
            name=op.f("jurisdiction_kind_check"),
        ),
        sa.CheckConstraint(
            "region IN ('asia_pacific', 'middle_east', 'europe', 'north_america', 'latin_america_caribbean', 'africa')",
            name=op.f("jurisdiction_region_check"),
        ),
        sa.CheckConstraint("parent_id <> id", name=op.f("jurisdiction_not_own_parent_check")),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["jurisdiction.id"],
            name=op.f("jurisdiction_parent_id_fkey"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("jurisdiction_pkey")),
        sa.UniqueConstraint("code", name=op.f("jurisdiction_code_key")),
    )
    op.create_index(
        "jurisdiction_name_trgm_idx",
        "jurisdiction",
        ["name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_index(op.f("jurisdiction_parent_id_idx"), "jurisdiction", ["parent_id"], unique=False)
    op.create_table(
        "metric",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("higher_is_better", sa.Boolean(), nullable=True),
        sa.Column("frequency", sa.Text(), nullable=False),
        sa.Column("bilateral", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "frequency IN ('annual', 'quarterly', 'monthly', 'daily', 'irregular')",
            name=op.f("metric_frequency_check"),
        ),
        sa.CheckConstraint("key ~ '^[a-z][a-z0-9]*(_[a-z0-9]+)*$'", name=op.f("metric_key_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("metric_pkey")),
        sa.UniqueConstraint("key", name=op.f("metric_key_key")),
    )
    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("publisher", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("accessed_on", sa.Date(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('law', 'regulator', 'dataset', 'research_report', 'news', 'article')",
            name=op.f("source_kind_check"),
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("source_slug_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("source_pkey")),
        sa.UniqueConstraint("slug", name=op.f("source_slug_key")),
    )
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('law_enacted', 'law_effective', 'licence_granted', 'consultation', 'enforcement', 'policy_announcement', 'market_exit', 'market_entry')",
            name=op.f("event_kind_check"),
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("event_slug_check")),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdiction.id"],
            name=op.f("event_jurisdiction_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("event_pkey")),
        sa.UniqueConstraint("slug", name=op.f("event_slug_key")),
    )
    op.create_index(op.f("event_event_date_idx"), "event", ["event_date"], unique=False)
    op.create_index(
        op.f("event_jurisdiction_id_event_date_idx"),
        "event",
        ["jurisdiction_id", "event_date"],
        unique=False,
    )
    op.create_table(
        "feature_value",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("feature_id", sa.Integer(), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        postgresql.ExcludeConstraint(
            (sa.literal_column("jurisdiction_id"), "="),
            (sa.literal_column("feature_id"), "="),
            (sa.literal_column("daterange(valid_from, valid_to)"), "&&"),
            using="gist",
            name="feature_value_no_overlap",
        ),
        sa.CheckConstraint(
            "confidence IN ('verified', 'reported', 'estimated', 'disputed')",
            name=op.f("feature_value_confidence_check"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("feature_value_interval_check")
        ),
        sa.ForeignKeyConstraint(
            ["feature_id"],
            ["feature.id"],
            name=op.f("feature_value_feature_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdiction.id"],
            name=op.f("feature_value_jurisdiction_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("feature_value_pkey")),
    )
    op.create_index(
        op.f("feature_value_feature_id_valid_from_idx"),
        "feature_value",
        ["feature_id", "valid_from"],
        unique=False,
    )
    op.create_table(
        "index_component",
        sa.Column("index_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("feature_id", sa.Integer(), nullable=True),
        sa.Column("metric_id", sa.Integer(), nullable=True),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("transform", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(kind = 'feature' AND feature_id IS NOT NULL AND metric_id IS NULL) OR (kind = 'metric' AND metric_id IS NOT NULL AND feature_id IS NULL)",
            name=op.f("index_component_target_check"),
        ),
        sa.CheckConstraint(
            "kind IN ('feature', 'metric')", name=op.f("index_component_kind_check")
        ),
        sa.CheckConstraint(
            "transform IN ('enum_score', 'boolean', 'minmax', 'log_minmax', 'rank')",
            name=op.f("index_component_transform_check"),
        ),
        sa.CheckConstraint("weight >= 0", name=op.f("index_component_weight_check")),
        sa.ForeignKeyConstraint(
            ["feature_id"],
            ["feature.id"],
            name=op.f("index_component_feature_id_fkey"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["index_id"],
            ["composite_index.id"],
            name=op.f("index_component_index_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["metric.id"],
            name=op.f("index_component_metric_id_fkey"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("index_id", "position", name=op.f("index_component_pkey")),
    )
    op.create_index(
        op.f("index_component_feature_id_idx"), "index_component", ["feature_id"], unique=False
    )
    op.create_index(
        op.f("index_component_metric_id_idx"), "index_component", ["metric_id"], unique=False
    )
    op.create_table(
        "observation",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("counterpart_id", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "confidence IN ('verified', 'reported', 'estimated', 'disputed')",
            name=op.f("observation_confidence_check"),
        ),
        sa.CheckConstraint(
            "period ~ '^\\d{4}(-Q[1-4]|-\\d{2}(-\\d{2})?)?$'",
            name=op.f("observation_period_format_check"),
        ),
        sa.CheckConstraint(
            "counterpart_id IS DISTINCT FROM jurisdiction_id",
            name=op.f("observation_counterpart_check"),
        ),
        sa.CheckConstraint("period_end >= period_start", name=op.f("observation_period_check")),
        sa.ForeignKeyConstraint(
            ["counterpart_id"],
            ["jurisdiction.id"],
            name=op.f("observation_counterpart_id_fkey"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdiction.id"],
            name=op.f("observation_jurisdiction_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["metric.id"],
            name=op.f("observation_metric_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("observation_pkey")),
        sa.UniqueConstraint(
            "jurisdiction_id",
            "metric_id",
            "period",
            "counterpart_id",
            name=op.f("observation_jurisdiction_id_metric_id_period_counterpart_id_key"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        op.f("observation_counterpart_id_idx"), "observation", ["counterpart_id"], unique=False
    )
    op.create_index(
        op.f("observation_metric_id_jurisdiction_id_period_start_idx"),
        "observation",
        ["metric_id", "jurisdiction_id", "period_start"],
        unique=False,
    )
    op.create_table(
        "regulator",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("acronym", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("remit", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("regulator_slug_check")),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdiction.id"],
            name=op.f("regulator_jurisdiction_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("regulator_pkey")),
        sa.UniqueConstraint("slug", name=op.f("regulator_slug_key")),
    )
    op.create_index(
        op.f("regulator_jurisdiction_id_idx"), "regulator", ["jurisdiction_id"], unique=False
    )
    op.create_table(
        "event_source",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("event_source_event_id_fkey"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("event_source_source_id_fkey"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("event_id", "source_id", name=op.f("event_source_pkey")),
    )
    op.create_index(op.f("event_source_source_id_idx"), "event_source", ["source_id"], unique=False)
    op.create_table(
        "feature_value_source",
        sa.Column("feature_value_id", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feature_value_id"],
            ["feature_value.id"],
            name=op.f("feature_value_source_feature_value_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("feature_value_source_source_id_fkey"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "feature_value_id", "source_id", name=op.f("feature_value_source_pkey")
        ),
    )
    op.create_index(
        op.f("feature_value_source_source_id_idx"),
        "feature_value_source",
        ["source_id"],
        unique=False,
    )
    op.create_table(
        "observation_source",
        sa.Column("observation_id", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observation.id"],
            name=op.f("observation_source_observation_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("observation_source_source_id_fkey"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "observation_id", "source_id", name=op.f("observation_source_pkey")
        ),
    )
    op.create_index(
        op.f("observation_source_source_id_idx"), "observation_source", ["source_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("observation_source_source_id_idx"), table_name="observation_source")
    op.drop_table("observation_source")
    op.drop_index(op.f("feature_value_source_source_id_idx"), table_name="feature_value_source")
    op.drop_table("feature_value_source")
    op.drop_index(op.f("event_source_source_id_idx"), table_name="event_source")
    op.drop_table("event_source")
    op.drop_index(op.f("regulator_jurisdiction_id_idx"), table_name="regulator")
    op.drop_table("regulator")
    op.drop_index(
        op.f("observation_metric_id_jurisdiction_id_period_start_idx"), table_name="observation"
    )
    op.drop_index(op.f("observation_counterpart_id_idx"), table_name="observation")
    op.drop_table("observation")
    op.drop_index(op.f("index_component_metric_id_idx"), table_name="index_component")
    op.drop_index(op.f("index_component_feature_id_idx"), table_name="index_component")
    op.drop_table("index_component")
    op.drop_index(op.f("feature_value_feature_id_valid_from_idx"), table_name="feature_value")
    op.drop_table("feature_value")
    op.drop_index(op.f("event_jurisdiction_id_event_date_idx"), table_name="event")
    op.drop_index(op.f("event_event_date_idx"), table_name="event")
    op.drop_table("event")
    op.drop_table("source")
    op.drop_table("metric")
    op.drop_index(op.f("jurisdiction_parent_id_idx"), table_name="jurisdiction")
    op.drop_index(
        "jurisdiction_name_trgm_idx",
        table_name="jurisdiction",
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.drop_table("jurisdiction")
    op.drop_table("feature")
    op.drop_table("composite_index")
    op.drop_index(op.f("change_entity_entity_key_idx"), table_name="change")
    op.drop_table("change")
    op.drop_table("api_key")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
    op.execute("DROP EXTENSION IF EXISTS btree_gist")
