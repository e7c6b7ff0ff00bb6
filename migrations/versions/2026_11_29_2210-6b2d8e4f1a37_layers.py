"""Layers: a jurisdiction inherits its ancestors' feature values unless it has its own.

`feature.inherits` says whether a feature's values apply below the jurisdiction that holds
them (MiCA for every EU member state, US federal law for US-NY, UAE federal law for the
emirates and their zones); a flag like `on_fatf_grey_list` does not. The view
`jurisdiction_lineage` lists every jurisdiction with itself (depth 0) and each ancestor
(depth 1, 2...); the function `feature_values_in_force(as_of)` applies the rule once for every
read: per jurisdiction and feature, its own value in force, else the nearest ancestor's for a
feature that inherits (`inherited_from_id` names that ancestor). It is a single SQL SELECT,
so PostgreSQL inlines it and a read's filters reach the tables' indexes.

Revision ID: 6b2d8e4f1a37
Revises: 3e7a9c1d4b20
Create Date: 2026-11-29 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6b2d8e4f1a37"
down_revision: str | None = "3e7a9c1d4b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "feature",
        sa.Column("inherits", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    # Data step: the FATF grey list names countries; a member state or a zone is not on it
    # because its union or country is (the bundled dataset says the same on its next seed).
    op.execute("UPDATE feature SET inherits = false WHERE key = 'on_fatf_grey_list'")
    op.execute(
        """
        CREATE VIEW jurisdiction_lineage (jurisdiction_id, ancestor_id, depth) AS
        WITH RECURSIVE lineage(jurisdiction_id, ancestor_id, depth) AS (
            SELECT id, id, 0 FROM jurisdiction
            UNION ALL
            SELECT l.jurisdiction_id, j.parent_id, l.depth + 1
              FROM lineage l JOIN jurisdiction j ON j.id = l.ancestor_id
             WHERE j.parent_id IS NOT NULL AND l.depth < 16
        )
        SELECT jurisdiction_id, ancestor_id, depth FROM lineage
        """
    )
    op.execute(
        """
        CREATE FUNCTION feature_values_in_force(as_of date)
        RETURNS TABLE (jurisdiction_id integer, feature_value_id bigint, inherited_from_id integer)
        LANGUAGE sql STABLE AS $$
          SELECT DISTINCT ON (l.jurisdiction_id, v.feature_id)
                 l.jurisdiction_id, v.id, CASE WHEN l.depth > 0 THEN l.ancestor_id END
            FROM jurisdiction_lineage l
            JOIN feature_value v ON v.jurisdiction_id = l.ancestor_id
            JOIN feature f ON f.id = v.feature_id
           WHERE v.valid_from <= as_of AND (v.valid_to IS NULL OR v.valid_to > as_of)
             AND (l.depth = 0 OR f.inherits)
           ORDER BY l.jurisdiction_id, v.feature_id, l.depth
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION feature_values_in_force(date)")
    op.execute("DROP VIEW jurisdiction_lineage")
    op.drop_column("feature", "inherits")
