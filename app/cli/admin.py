"""`juriscope db` (schema migrations) and `juriscope keys` (API keys)."""

import asyncio
from typing import Annotated

import typer

from app.cli.base import CliError, database_url, db_cli, in_session, keys_cli, schema_database_url
from app.core.config import get_settings


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the schema to REVISION (default: head)."""
    from app.cli import migrate as migrations

    with database_url(get_settings()) as url:
        migrations.upgrade(url, revision)
        typer.echo(f"upgraded to {revision}")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="e.g. base or -1")]) -> None:
    """Downgrade the schema to REVISION (`base` removes every table)."""
    from app.cli import migrate as migrations

    with database_url(get_settings()) as url:
        migrations.downgrade(url, revision)
        typer.echo(f"downgraded to {revision}")


@db_cli.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the latest one."""
    from app.cli import migrate as migrations

    with database_url(get_settings()) as url:
        current = migrations.current_revision_of(url)
        head = migrations.head_revision()
        state = "at head" if current == head else f"head is {head}"
        typer.echo(f"{current or 'base (empty)'} ({state})")


@keys_cli.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    scope: Annotated[
        list[str], typer.Option(help="write or admin (repeatable); admin implies write.")
    ],
) -> None:
    """Create an API key and print it, alone, on the last line. It is shown once: only its
    SHA-256 is stored."""
    from app.keys import service

    bad = sorted(set(scope) - {"write", "admin"})
    if bad:
        raise CliError(f"--scope must be write or admin, not {', '.join(bad)}")
    with schema_database_url(get_settings()) as url:
        created = asyncio.run(
            in_session(
                url,
                lambda session: service.create_key(session, name=name, scopes=scope, actor="cli"),
            )
        )
    typer.echo(f"Created {created.id} ({', '.join(created.scopes)}) named {created.name!r}.")
    typer.echo("Store the key now; it cannot be shown again:")
    typer.echo(created.key)


@keys_cli.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, e.g. key_3f9a1c2b.")],
) -> None:
    """Revoke an API key at once."""
    from app.keys import service

    with schema_database_url(get_settings()) as url:
        try:
            revoked = asyncio.run(
                in_session(
                    url, lambda session: service.revoke_key(session, key_id=key_id, actor="cli")
                )
            )
        except service.KeyNotFound as error:
            raise CliError(str(error)) from None
    typer.echo(f"Revoked {revoked.id} at {revoked.revoked_at:%Y-%m-%d %H:%M:%S} UTC.")
