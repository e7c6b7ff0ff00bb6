"""Serialise writes: change ids in commit order, and no cycle in the jurisdiction tree.

Change ids used to come from the identity at insert time, so a long import and a short write
could commit in the other order than their ids: a client polling `since=` between the two
commits skipped records. Now every insert into `change` first takes the writers' lock (a
transaction-level advisory lock, the one API writes take before they read what they check),
then draws its id: ids of a later-committing transaction are drawn after the earlier one
committed, so `since=<last id seen>` can never skip a committed change.

The tree trigger takes the same lock before it walks the new parent's ancestors, so two
concurrent re-parentings cannot each miss the other's edge (write skew), whatever client
writes them (the API, the loader, or SQL).

Revision ID: 3e7a9c1d4b20
Revises: 8c3d2a7f1b55
Create Date: 2026-11-29 21:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3e7a9c1d4b20"
down_revision: str | None = "8c3d2a7f1b55"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.core.locks.WRITERS_LOCK: keep the two equal.
WRITERS_LOCK = 4_801_707_113


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION change_id_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_advisory_xact_lock({WRITERS_LOCK});
          NEW.id := nextval(pg_get_serial_sequence('change', 'id'));
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER change_id_in_commit_order BEFORE INSERT ON change "
        "FOR EACH ROW EXECUTE FUNCTION change_id_in_commit_order()"
    )
    op.execute(
        f"""
        CREATE FUNCTION jurisdiction_tree_has_no_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.parent_id IS NULL THEN
            RETURN NEW;
          END IF;
          PERFORM pg_advisory_xact_lock({WRITERS_LOCK});
          IF EXISTS (
            WITH RECURSIVE ancestor(id) AS (
              SELECT NEW.parent_id
              UNION
              SELECT j.parent_id FROM jurisdiction j JOIN ancestor a ON j.id = a.id
              WHERE j.parent_id IS NOT NULL
            )
            SELECT 1 FROM ancestor WHERE id = NEW.id
          ) THEN
            RAISE EXCEPTION 'jurisdiction % would be its own ancestor', NEW.code
              USING ERRCODE = 'integrity_constraint_violation',
                    CONSTRAINT = 'jurisdiction_no_cycle';
          END IF;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER jurisdiction_tree_has_no_cycle "
        "BEFORE INSERT OR UPDATE OF parent_id ON jurisdiction "
        "FOR EACH ROW EXECUTE FUNCTION jurisdiction_tree_has_no_cycle()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER jurisdiction_tree_has_no_cycle ON jurisdiction")
    op.execute("DROP FUNCTION jurisdiction_tree_has_no_cycle()")
    op.execute("DROP TRIGGER change_id_in_commit_order ON change")
    op.execute("DROP FUNCTION change_id_in_commit_order()")
