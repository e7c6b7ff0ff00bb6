"""What the `juriscope` commands share: the Typer apps, the one-line error, the database
URL (DATABASE_URL or the embedded server) and a session for a command's own work."""

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import typer

from app.core.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

cli = typer.Typer(
    name="juriscope",
    help="Juriscope: compare jurisdictions for virtual-asset business.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
keys_cli = typer.Typer(help="API keys for writes and administration.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")

T = TypeVar("T")


class CliError(Exception):
    """An error reported to the user as one line on stderr, with exit status 1."""


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """DATABASE_URL when set; otherwise the embedded server in JURISCOPE_DATA_DIR (started,
    or joined if another `juriscope` process runs it), released on exit."""
    if settings.database_url:
        yield settings.database_url
        return
    from app.cli.embedded import embedded_database

    with embedded_database(settings.data_dir) as url:
        yield url


@contextlib.contextmanager
def schema_database_url(settings: Settings) -> Iterator[str]:
    """`database_url`, with the schema at the latest migration: the embedded database is
    upgraded first, as `serve` does; an external one that is not stops the command with a
    line that says to run `juriscope db upgrade` (upgrading it is the operator's decision)."""
    from app.cli import migrate as migrations

    with database_url(settings) as url:
        try:
            migrations.require_head(url, upgrade_if_behind=settings.embedded)
        except migrations.SchemaNotCurrent as error:
            raise CliError(str(error)) from None
        yield url


async def in_session(url: str, work: "Callable[[AsyncSession], Awaitable[T]]") -> "T":
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import NullPool

    from app.core.db import async_url

    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()
