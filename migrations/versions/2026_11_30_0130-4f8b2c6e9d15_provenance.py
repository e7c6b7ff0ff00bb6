"""Provenance a reader can trust: when each value and observation was last checked against its
sources (`checked_on`), a grade for figures no source can trace (`unverified`), and bounds
("less than 0.5%") held as bounds (`observation.bound`), not as point values.

`checked_on` is filled for the rows already stored with the newest `accessed_on` of their
sources (the day someone last read them), or the day the row was written when it cites none;
a row written later without one is checked on the day it is written.

The downgrade refuses a database that holds `unverified` rows, listing them: it does not guess
which grade they should fall back to.

Revision ID: 4f8b2c6e9d15
Revises: 9a41c7e2d5b8
Create Date: 2026-11-30 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4f8b2c6e9d15"
down_revision: str | None = "9a41c7e2d5b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (a migration must not change when the models do).
OLD_GRADES = ("verified", "reported", "estimated", "disputed")
NEW_GRADES = (*OLD_GRADES, "unverified")
BOUNDS = ("lt", "le", "gt", "ge")
TABLES = (
    ("feature_value", "feature_value_source", "feature_value_id"),
    ("observation", "observation_source", "observation_id"),
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    for table, links, link_id in TABLES:
        op.add_column(table, sa.Column("checked_on", sa.Date(), nullable=True))
        op.execute(
            f"""
            UPDATE {table} t
               SET checked_on = coalesce(
                     (SELECT max(s.accessed_on) FROM {links} l JOIN source s ON s.id = l.source_id
                       WHERE l.{link_id} = t.id),
                     {"t.created_at::date" if table == "feature_value" else "current_date"})
            """
        )
        op.alter_column(table, "checked_on", nullable=False, server_default=sa.text("current_date"))
        op.drop_constraint("confidence", table, type_="check")
        op.create_check_constraint("confidence", table, _in("confidence", NEW_GRADES))
    op.add_column("observation", sa.Column("bound", sa.Text(), nullable=True))
    op.create_check_constraint("bound", "observation", _in("bound", BOUNDS))


def downgrade() -> None:
    rows = []
    for table, _links, _link_id in TABLES:
        rows += [
            f"{table} {id_}"
            for (id_,) in op.get_bind().execute(
                sa.text(f"SELECT id FROM {table} WHERE confidence = 'unverified' ORDER BY id")
            )
        ]
    if rows:
        raise RuntimeError(
            f"{len(rows)} row(s) are graded 'unverified', which the previous schema cannot hold: "
            f"{', '.join(rows)}. Grade them otherwise (or delete them), then downgrade again."
        )
    op.drop_constraint("bound", "observation", type_="check")
    op.drop_column("observation", "bound")
    for table, _links, _link_id in TABLES:
        op.drop_constraint("confidence", table, type_="check")
        op.create_check_constraint("confidence", table, _in("confidence", OLD_GRADES))
        op.drop_column(table, "checked_on")
