"""The `juriscope` command line: serve, seed, import and export (the `db` and `keys`
groups are in app/cli/admin.py, what the commands share in app/cli/base.py)."""

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli import admin  # noqa: F401  (registers `juriscope db` and `juriscope keys`)
from app.cli.base import CliError, cli, database_url, schema_database_url
from app.core.config import Settings, get_settings

if TYPE_CHECKING:
    from app.core.issues import Issue
    from app.dataset.loader import ImportReport

log = logging.getLogger("juriscope")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    migrate: Annotated[bool, typer.Option(help="Upgrade the schema to head first.")] = True,
    access_log: Annotated[
        bool, typer.Option(help="Log every request; without it, only failed ones.")
    ] = True,
) -> None:
    """Serve the API. Without DATABASE_URL, starts the embedded PostgreSQL, migrates it, loads
    the bundled dataset into an empty database, and stops the server on exit."""
    settings = get_settings()
    # Before anything imports prometheus_client, which picks its mode when imported.
    with metrics_directory(settings), database_url(settings) as url:
        _serve(settings, url, host, port, workers, reload, migrate, access_log)


@contextlib.contextmanager
def metrics_directory(settings: Settings) -> Iterator[Path]:
    """The workers' shared metrics directory (prometheus_client's multiprocess mode), emptied
    first: PROMETHEUS_MULTIPROC_DIR's, or a temporary one removed on exit."""
    owned = settings.metrics_dir is None
    directory = settings.metrics_dir or Path(tempfile.mkdtemp(prefix="juriscope-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    try:
        yield directory
    finally:
        if owned:
            shutil.rmtree(directory, ignore_errors=True)


def _serve(
    settings: Settings,
    url: str,
    host: str,
    port: int,
    workers: int,
    reload: bool,
    migrate: bool,
    access_log: bool,
) -> None:
    import uvicorn

    from app.cli import migrate as migrations
    from app.observability.logs import log_config

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
            log_level=settings.log_level,
            # The app logs one event per request (juriscope.access) in place of uvicorn's.
            access_log=False,
            log_config=log_config(settings.log_format, settings.log_level, access=access_log),
            http="app.http.server:GuardedHttpToolsProtocol",
            timeout_keep_alive=settings.keep_alive_timeout_s,
            # X-Forwarded-For/-Proto only from the proxies named in
            # JURISCOPE_TRUSTED_PROXIES; with none, nobody can pick their own address.
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=settings.trusted_proxies or [],
        )
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it already handled: a clean shutdown
    except SystemExit as stop:
        if stop.code != 128 + signal.SIGTERM:
            raise
    typer.echo("Juriscope stopped.", err=True)


def _seed_if_empty(url: str) -> None:
    from app.dataset import loader

    report = loader.seed_if_empty(url)
    if report is not None:
        typer.echo(f"Loaded the bundled dataset: {_summary(report)}", err=True)


def _summary(report: "ImportReport") -> str:
    parts = [
        f"{entity} +{c.created} ~{c.updated} ={c.unchanged}" for entity, c in report.counts.items()
    ]
    return ", ".join(parts) or "nothing"


def _print_issues(issues: "list[Issue]") -> None:
    for issue in issues:
        where = issue.file
        if issue.record is not None:
            where += f" record {issue.record}"
        if issue.key:
            where += f" ({issue.key})"
        if issue.field:
            where += f" field {issue.field}"
        typer.echo(f"  {where}: {issue.message}", err=True)


@cli.command()
def seed(
    if_empty: Annotated[bool, typer.Option(help="Only load into an empty database.")] = False,
) -> None:
    """Load the bundled dataset. Idempotent: a second run changes nothing and says so."""
    from app.cli.progress import stages
    from app.dataset import loader
    from app.dataset.plan import ENTITY_NAMES

    with (
        schema_database_url(get_settings()) as url,
        stages("seed", len(ENTITY_NAMES)) as stage,
    ):
        report = asyncio.run(loader.seed_async(url, if_empty=if_empty, on_stage=stage))
    if report is None:
        typer.echo("The database already holds data; nothing loaded (--if-empty).")
    elif report.changed == 0:
        typer.echo(f"Already up to date: nothing changed ({_summary(report)}).")
    else:
        typer.echo(f"Seeded: {_summary(report)} (+created ~updated =unchanged).")


@cli.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A dataset directory, JSON file or CSV file.")],
    dry_run: Annotated[bool, typer.Option(help="Validate only; write nothing.")] = False,
) -> None:
    """Import a dataset in the bundled format: all or nothing, in one transaction."""
    from app.cli.progress import stages
    from app.dataset import bulk, loader
    from app.dataset.io import DatasetInvalid, read_path
    from app.dataset.plan import ENTITY_NAMES

    if bulk.is_large(path):
        # Streamed and staged by COPY, checked and written set-wise: memory stays bounded.
        try:
            with (
                schema_database_url(get_settings()) as url,
                stages("import", bulk.STAGES) as stage,
            ):
                report = asyncio.run(
                    bulk.import_directory_async(
                        url, path, actor="cli", dry_run=dry_run, on_stage=stage
                    )
                )
        except DatasetInvalid as error:
            _print_issues(error.issues)
            raise CliError(f"{len(error.issues)} invalid record(s); nothing was imported") from None
        verb = "Would import" if dry_run else "Imported"
        typer.echo(f"{verb}: {_summary(report)} (+created ~updated =unchanged).")
        return
    positions: dict[str, list[int]] = {}
    try:
        dataset, issues = read_path(path, positions)
    except DatasetInvalid as error:
        _print_issues(error.issues)
        raise CliError(f"{path} cannot be read; nothing was imported") from None
    try:
        with (
            schema_database_url(get_settings()) as url,
            stages("import", len(ENTITY_NAMES)) as stage,
        ):
            report = asyncio.run(
                loader.import_async(
                    url,
                    dataset,
                    actor="cli",
                    dry_run=dry_run,
                    on_stage=stage,
                    prior_issues=issues,
                    positions=positions,
                )
            )
    except DatasetInvalid as error:
        _print_issues(error.issues)
        raise CliError(f"{len(error.issues)} invalid record(s); nothing was imported") from None
    verb = "Would import" if dry_run else "Imported"
    typer.echo(f"{verb}: {_summary(report)} (+created ~updated =unchanged).")


@cli.command()
def export(
    directory: Annotated[Path, typer.Argument(help="Directory to write the files into.")],
    format: Annotated[
        str, typer.Option("--format", help="json, csv, or datapackage (CSV + datapackage.json).")
    ] = "json",
) -> None:
    """Export the whole dataset in the bundled format (one file per entity type), or as a
    Frictionless Data package (the files of GET /v1/export)."""
    from app.cli.progress import stages
    from app.dataset import loader
    from app.dataset.plan import ENTITY_NAMES

    if format not in ("json", "csv", "datapackage"):
        raise CliError(f"--format must be json, csv or datapackage, not {format!r}")
    if format != "datapackage":
        from app.dataset.export import export_directory_async

        # Record by record from a cursor into the files: memory stays bounded.
        directory.mkdir(parents=True, exist_ok=True)
        with (
            schema_database_url(get_settings()) as url,
            stages("export", len(ENTITY_NAMES)) as stage,
        ):
            count, written = asyncio.run(
                export_directory_async(url, directory, fmt=format, on_stage=stage)
            )
        typer.echo(f"Exported {count} records to {len(written)} files in {directory}.")
        return
    from app.dataset.datapackage import package_files

    with schema_database_url(get_settings()) as url, stages("export", 2) as stage:
        stage("reading the database", 0)
        dataset, version, changed_at = asyncio.run(loader.export_with_version_async(url))
        stage("writing files", sum(dataset.counts().values()))
        directory.mkdir(parents=True, exist_ok=True)
        files = []
        for name, content in package_files(
            dataset, data_version=version, data_changed_at=changed_at
        ).items():
            (directory / name).write_bytes(content)
            files.append(directory / name)
    typer.echo(
        f"Exported {sum(dataset.counts().values())} records to {len(files)} files in {directory}."
    )


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM becomes SystemExit so that `finally` blocks (stopping the embedded server) run.
    raise SystemExit(128 + signum)


def main() -> None:
    from app.observability.logs import configure_logging

    try:
        settings = get_settings()
        configure_logging(settings.log_format, settings.log_level)
    except Exception:  # invalid settings: the command itself reports them
        configure_logging()
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
        typer.echo(f"juriscope: error: {_error_line(error)}", err=True)
        sys.exit(1)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else error.__class__.__name__


def _error_line(error: Exception) -> str:
    """An unexpected error as one line: a database error as the database's own message,
    without the SQL statement and parameters SQLAlchemy appends."""
    from sqlalchemy import exc as sa_exc

    from app.core.error_handlers import is_database_down

    cause: BaseException = error
    if isinstance(error, sa_exc.DBAPIError) and error.orig is not None:
        # asyncpg's own exception is the cause of SQLAlchemy's DBAPI adapter exception.
        cause = error.orig.__cause__ or error.orig
    if is_database_down(error):
        return f"cannot reach the database: {_first_line(cause)}"
    if cause is not error:
        detail = getattr(cause, "detail", None)
        message = _first_line(cause)
        return f"database error: {message} ({detail})" if detail else f"database error: {message}"
    if isinstance(error, sa_exc.SQLAlchemyError):
        return f"database error: {_first_line(error)}"
    return f"{error.__class__.__name__}: {_first_line(error)}"
