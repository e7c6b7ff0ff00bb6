"""`feature_values_in_force` takes the jurisdictions and features a read asks for.

The function gave every jurisdiction's value of every feature (about 54,000 rows at the
benchmark's scale), and a read that wanted ten jurisdictions or the seven features of an
index filtered them afterwards: PostgreSQL cannot push a filter on a jurisdiction code or a
feature key through the DISTINCT ON. The filters now apply inside, before the DISTINCT ON,
as two optional arrays (codes and keys; NULL: all). The rule itself is unchanged
(including 7d3e5a1c9b62's: a special zone does not inherit what its own law sets).

Revision ID: d7b3e9a1c5f2
Revises: c4e8a2f6d913
Create Date: 2026-11-30 01:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d7b3e9a1c5f2"
down_revision: str | None = "c4e8a2f6d913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULE = """
          SELECT DISTINCT ON (l.jurisdiction_id, v.feature_id)
                 l.jurisdiction_id, v.id, CASE WHEN l.depth > 0 THEN l.ancestor_id END
            FROM jurisdiction_lineage l
            JOIN jurisdiction j ON j.id = l.jurisdiction_id
            JOIN feature_value v ON v.jurisdiction_id = l.ancestor_id
            JOIN feature f ON f.id = v.feature_id
           WHERE v.valid_from <= as_of AND (v.valid_to IS NULL OR v.valid_to > as_of)
             AND (l.depth = 0
                  OR (f.inherits AND (f.reaches_special_zones OR j.kind <> 'special_zone'))){filters}
           ORDER BY l.jurisdiction_id, v.feature_id, l.depth
"""
FILTERS = """
             AND (codes IS NULL OR j.code = ANY(codes))
             AND (keys IS NULL OR f.key = ANY(keys))"""


def upgrade() -> None:
    op.execute("DROP FUNCTION feature_values_in_force(date)")
    op.execute(
        f"""
        CREATE FUNCTION feature_values_in_force(
          as_of date, codes text[] DEFAULT NULL, keys text[] DEFAULT NULL)
        RETURNS TABLE (jurisdiction_id integer, feature_value_id bigint, inherited_from_id integer)
        LANGUAGE sql STABLE AS $${RULE.format(filters=FILTERS)}$$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION feature_values_in_force(date, text[], text[])")
    op.execute(
        f"""
        CREATE FUNCTION feature_values_in_force(as_of date)
        RETURNS TABLE (jurisdiction_id integer, feature_value_id bigint, inherited_from_id integer)
        LANGUAGE sql STABLE AS $${RULE.format(filters="")}$$
        """
    )
