"""The database holds regulators' remits to the API's vocabulary, as it already does for every
other vocabulary (kinds, regions, categories, value types, confidence, periods): data that
arrives by SQL or COPY is then held to the same rules, and reading a stored row back through
the API's models can never fail.

A database that already holds a remit outside the vocabulary is refused, with the rows to fix
listed: the migration does not guess what `consumer` was meant to be.

Revision ID: 9a41c7e2d5b8
Revises: 6d2f4b8a1c93
Create Date: 2026-11-29 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9a41c7e2d5b8"
down_revision: str | None = "6d2f4b8a1c93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (a migration must not change when the models do).
REMITS = (
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
)
CHECK = "remit <@ ARRAY[" + ", ".join(f"'{r}'" for r in REMITS) + "]::text[]"


def upgrade() -> None:
    bad = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT j.code, r.slug, r.remit FROM regulator r "
                f"JOIN jurisdiction j ON j.id = r.jurisdiction_id WHERE NOT ({CHECK}) "
                "ORDER BY j.code, r.slug"
            )
        )
        .all()
    )
    if bad:
        rows = "; ".join(f"{code} {slug}: {list(remit)}" for code, slug, remit in bad)
        raise RuntimeError(
            f"{len(bad)} regulator(s) have a remit outside {', '.join(REMITS)}: {rows}. "
            "Correct them (PUT /v1/jurisdictions/{code} or SQL), then upgrade again."
        )
    op.create_check_constraint("remit", "regulator", CHECK)


def downgrade() -> None:
    op.drop_constraint("remit", "regulator", type_="check")
