"""Run Alembic programmatically: upgrade, downgrade, current revision, at-head check."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[2]


class SchemaNotCurrent(Exception):
    """The database's schema is not at the latest migration; the message says what to do."""


def migrations_dir() -> Path:
    """`migrations/` of the source checkout, or JURISCOPE_MIGRATIONS_DIR (the Docker image)."""
    from app.core.config import get_settings

    return get_settings().migrations_dir or ROOT / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for this project's migrations, bound to `url` when given."""
    location = migrations_dir()
    ini = location.parent / "alembic.ini"
    config = Config(str(ini)) if ini.exists() else Config()
    config.set_main_option("script_location", str(location))
    config.attributes["configure_logging"] = False
    if url:
        config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (sync connection; use `run_sync` from async code)."""
    return MigrationContext.configure(connection).get_current_revision()


def current_revision_of(url: str) -> str | None:
    """The revision of the database at `url` (for the CLI; opens its own connection)."""
    from app.core.db import async_url

    async def _current() -> str | None:
        engine = create_async_engine(async_url(url), poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(current_revision)
        finally:
            await engine.dispose()

    return asyncio.run(_current())


def _is_known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def require_head(url: str, *, upgrade_if_behind: bool = False) -> None:
    """Return once the database at `url` is at the latest migration. With upgrade_if_behind,
    a database that is behind (or has no schema yet) is upgraded; otherwise, and for a
    revision this code does not know, raise SchemaNotCurrent."""
    current = current_revision_of(url)
    head = head_revision()
    if current == head:
        return
    if current is not None and not _is_known(current):
        raise SchemaNotCurrent(
            f"the database schema is at {current}, a revision this version of Juriscope "
            "does not know; use the version that migrated it"
        )
    if upgrade_if_behind:
        upgrade(url)
    elif current is None:
        raise SchemaNotCurrent("the database has no Juriscope schema; run `juriscope db upgrade`")
    else:
        raise SchemaNotCurrent(
            f"the database schema is at {current}, behind the latest {head}; "
            "run `juriscope db upgrade`"
        )
