"""Add the indexes that serve reads by jurisdiction: its observations (and the latest of each
metric) and its feature values. Found by the benchmark: without them a profile or a compare
scanned every observation.

Revision ID: 8c3d2a7f1b55
Revises: 5b1f0c2d9e41
Create Date: 2026-11-25 08:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8c3d2a7f1b55"
down_revision: str | None = "5b1f0c2d9e41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("observation_jurisdiction_id_metric_id_period_end_idx"),
        "observation",
        ["jurisdiction_id", "metric_id", "period_end"],
    )
    op.create_index(
        op.f("feature_value_jurisdiction_id_feature_id_valid_from_idx"),
        "feature_value",
        ["jurisdiction_id", "feature_id", "valid_from"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("feature_value_jurisdiction_id_feature_id_valid_from_idx"), table_name="feature_value"
    )
    op.drop_index(
        op.f("observation_jurisdiction_id_metric_id_period_end_idx"), table_name="observation"
    )
