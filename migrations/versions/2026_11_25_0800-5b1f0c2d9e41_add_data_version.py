"""Add the data version: one row bumped on every change record, in commit order.

Revision ID: 5b1f0c2d9e41
Revises: eda85c6c2df5
Create Date: 2026-11-25 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1f0c2d9e41"
down_revision: str | None = "eda85c6c2df5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("data_version_single_row_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("data_version_pkey")),
    )
    # Data step: the one row, starting from the changes already recorded.
    op.execute(
        "INSERT INTO data_version (id, version, changed_at) "
        "SELECT 1, coalesce(max(id), 0), now() FROM change"
    )
    op.execute(
        """
        CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE data_version SET version = version + 1, changed_at = now() WHERE id = 1;
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER change_bumps_data_version AFTER INSERT ON change "
        "FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER change_bumps_data_version ON change")
    op.execute("DROP FUNCTION bump_data_version()")
    op.drop_table("data_version")
