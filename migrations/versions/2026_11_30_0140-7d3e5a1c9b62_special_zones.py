"""Financial free zones keep their own law: a special zone (ADGM, DIFC) does not inherit, from
the jurisdictions around it, what its own civil, commercial and financial-services law sets
(licensing, token classification, stablecoins, conduct, market access, innovation schemes,
data protection). It still inherits federal tax, AML, immigration and currency law.

`feature.reaches_special_zones` says which features flow into a special zone; the data step
sets it for the taxonomy's features by category (the bundled dataset says the same on its next
seed), except the two that are national currency law (`cbdc_status`, `bitcoin_legal_tender`).
`feature_values_in_force(as_of)` applies the rule; it stays one SQL SELECT, inlined.

Revision ID: 7d3e5a1c9b62
Revises: 4f8b2c6e9d15
Create Date: 2026-11-30 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7d3e5a1c9b62"
down_revision: str | None = "4f8b2c6e9d15"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (a migration must not change when the models or the data do).
ZONE_LAW_CATEGORIES = (
    "licensing",
    "token_classification",
    "stablecoins",
    "innovation",
    "market_access",
    "consumer_protection",
    "privacy",
)
NATIONAL_CURRENCY_LAW = ("cbdc_status", "bitcoin_legal_tender")

FUNCTION = """
CREATE OR REPLACE FUNCTION feature_values_in_force(as_of date)
RETURNS TABLE (jurisdiction_id integer, feature_value_id bigint, inherited_from_id integer)
LANGUAGE sql STABLE AS $$
  SELECT DISTINCT ON (l.jurisdiction_id, v.feature_id)
         l.jurisdiction_id, v.id, CASE WHEN l.depth > 0 THEN l.ancestor_id END
    FROM jurisdiction_lineage l
    JOIN jurisdiction j ON j.id = l.jurisdiction_id
    JOIN feature_value v ON v.jurisdiction_id = l.ancestor_id
    JOIN feature f ON f.id = v.feature_id
   WHERE v.valid_from <= as_of AND (v.valid_to IS NULL OR v.valid_to > as_of)
     AND (l.depth = 0
          OR (f.inherits AND (f.reaches_special_zones OR j.kind <> 'special_zone')))
   ORDER BY l.jurisdiction_id, v.feature_id, l.depth
$$
"""

OLD_FUNCTION = """
CREATE OR REPLACE FUNCTION feature_values_in_force(as_of date)
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


def upgrade() -> None:
    op.add_column(
        "feature",
        sa.Column("reaches_special_zones", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.get_bind().execute(
        sa.text(
            "UPDATE feature SET reaches_special_zones = false "
            "WHERE category = ANY(:categories) AND key <> ALL(:national)"
        ),
        {"categories": list(ZONE_LAW_CATEGORIES), "national": list(NATIONAL_CURRENCY_LAW)},
    )
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute(OLD_FUNCTION)
    op.drop_column("feature", "reaches_special_zones")
