"""Push the data version to the API's workers: NOTIFY on every bump and on key changes.

Each worker keeps its response cache keyed by the data version it was told, on a listening
connection of its own (app/data_version.py), instead of reading the version on every request.
`bump_data_version()` now also sends the new version on the channel `juriscope_data_version`
(delivered at commit, in commit order), and any change to `api_key` sends the current
version on the same channel, so a key changed by SQL (not through the API, which records a
change and so bumps the version anyway) also empties every worker's cache of known keys.

Revision ID: c4e8a2f6d913
Revises: 7d3e5a1c9b62
Create Date: 2026-11-30 01:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c4e8a2f6d913"
down_revision: str | None = "7d3e5a1c9b62"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# app.data_version.CHANNEL: keep the two equal.
CHANNEL = "juriscope_data_version"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          bumped bigint;
        BEGIN
          UPDATE data_version SET version = version + 1, changed_at = now() WHERE id = 1
            RETURNING version INTO bumped;
          PERFORM pg_notify('{CHANNEL}', bumped::text);
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION api_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('{CHANNEL}', (SELECT version FROM data_version WHERE id = 1)::text);
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER api_key_notifies AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_key "
        "FOR EACH STATEMENT EXECUTE FUNCTION api_key_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER api_key_notifies ON api_key")
    op.execute("DROP FUNCTION api_key_changed()")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE data_version SET version = version + 1, changed_at = now() WHERE id = 1;
          RETURN NULL;
        END $$
        """
    )
