"""The `juriscope` command run as a user runs it: real processes, a real uvicorn."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from sqlalchemy.engine import make_url

from app.cli import migrate
from app.cli.embedded import embedded_database, server_pid
from app.dataset import loader
from app.dataset.schemas import ENTITY_FILES
from tests.dataset.sample import sample

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "JURISCOPE_"))}
    env["JURISCOPE_DATA_DIR"] = str(data_dir)
    return env


def juriscope(
    *args: str, data_dir: Path, timeout: float = 60, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `juriscope ARGS` on the embedded server in `data_dir`, or on `database_url`."""
    env = _env(data_dir)
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _wait_ready(port: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"serve exited early: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not become ready")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_ready(port, process)
        yield process, port, tmp_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _assert_stopped(data_dir: Path, postmaster: int) -> None:
    deadline = time.monotonic() + 10
    while psutil.pid_exists(postmaster) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not psutil.pid_exists(postmaster) or psutil.Process(postmaster).status() == "zombie"
    assert server_pid(data_dir) is None


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_runs_embedded_database_and_stops_it_on_exit(
    served: tuple[subprocess.Popen[str], int, Path], stop_signal: signal.Signals
) -> None:
    process, port, data_dir = served
    postmaster = server_pid(data_dir)
    assert postmaster is not None
    listing = httpx.get(f"http://127.0.0.1:{port}/v1/jurisdictions")
    assert listing.status_code == 200

    process.send_signal(stop_signal)
    assert process.wait(timeout=30) == 0
    _assert_stopped(data_dir, postmaster)


def test_second_command_uses_the_running_server(
    served: tuple[subprocess.Popen[str], int, Path],
) -> None:
    process, port, data_dir = served
    postmaster = server_pid(data_dir)

    current = juriscope("db", "current", data_dir=data_dir)
    assert current.returncode == 0, current.stderr
    assert "(at head)" in current.stdout
    # The command joined the running server and left it running for `serve`.
    assert server_pid(data_dir) == postmaster
    assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    _assert_stopped(data_dir, postmaster)  # type: ignore[arg-type]


def test_workers_share_one_database_server(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_ready(port, process)
        postmasters = [
            p
            for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "postgres" and str(tmp_path) in " ".join(p.info["cmdline"] or [])
        ]
        assert len(postmasters) == 1
        postmaster = postmasters[0].pid
        for _ in range(4):
            assert httpx.get(f"http://127.0.0.1:{port}/v1/jurisdictions").status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        _assert_stopped(tmp_path, postmaster)
    finally:
        if process.poll() is None:
            process.kill()


def test_db_downgrade_and_upgrade(tmp_path: Path) -> None:
    assert juriscope("db", "upgrade", data_dir=tmp_path).returncode == 0
    down = juriscope("db", "downgrade", "base", data_dir=tmp_path)
    assert down.returncode == 0, down.stderr
    assert "base (empty)" in juriscope("db", "current", data_dir=tmp_path).stdout
    assert juriscope("db", "upgrade", "head", data_dir=tmp_path).returncode == 0
    assert "(at head)" in juriscope("db", "current", data_dir=tmp_path).stdout
    assert server_pid(tmp_path) is None


def test_errors_are_one_line_and_nonzero(tmp_path: Path) -> None:
    env_url = {"DATABASE_URL": "mysql://nobody@localhost/none"}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "current"],
        env=_env(tmp_path) | env_url,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "juriscope: error: ValueError: DATABASE_URL must be a PostgreSQL URL, got 'mysql'"
    ]


def _sample_sources(directory: Path) -> Path:
    path = directory / "sources.json"
    path.write_text(json.dumps(sample()["sources"]))
    return path


class TestFreshDataDirectory:
    """Each command that needs the schema, run first on a new data directory: it migrates
    the embedded database, as `serve` does, then does its work."""

    def test_seed(self, tmp_path: Path) -> None:
        result = juriscope("seed", data_dir=tmp_path)
        assert result.returncode == 0, result.stderr
        bundled = loader.bundled_dataset()
        counts = ", ".join(
            f"{entity} +{len(getattr(bundled, entity))} ~0 =0" for entity in ENTITY_FILES
        )
        assert result.stdout == f"Seeded: {counts} (+created ~updated =unchanged).\n"
        assert "(at head)" in juriscope("db", "current", data_dir=tmp_path).stdout
        assert server_pid(tmp_path) is None

    def test_import(self, tmp_path: Path) -> None:
        result = juriscope("import", str(_sample_sources(tmp_path)), data_dir=tmp_path / "data")
        assert result.returncode == 0, result.stderr
        assert result.stdout == "Imported: sources +2 ~0 =0 (+created ~updated =unchanged).\n"

    def test_import_dry_run(self, tmp_path: Path) -> None:
        path = _sample_sources(tmp_path)
        result = juriscope("import", str(path), "--dry-run", data_dir=tmp_path / "data")
        assert result.returncode == 0, result.stderr
        assert result.stdout == "Would import: sources +2 ~0 =0 (+created ~updated =unchanged).\n"

    def test_export(self, tmp_path: Path) -> None:
        out = tmp_path / "out"
        result = juriscope("export", str(out), data_dir=tmp_path / "data")
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"Exported 0 records to 9 files in {out}.\n"
        assert json.loads((out / "jurisdictions.json").read_text()) == []

    def test_export_datapackage(self, tmp_path: Path) -> None:
        """The files of GET /v1/export (tests/exports/test_router.py checks their content)."""
        out = tmp_path / "out"
        result = juriscope("export", "--format", "datapackage", str(out), data_dir=tmp_path / "d")
        assert result.returncode == 0, result.stderr
        files = len(ENTITY_FILES) + 2  # a CSV per entity, regulators.csv, datapackage.json
        assert result.stdout == f"Exported 0 records to {files} files in {out}.\n"
        package = json.loads((out / "datapackage.json").read_text())
        assert package["version"] == "0"
        assert sorted(p.name for p in out.iterdir()) == sorted(
            ["datapackage.json", *(r["path"] for r in package["resources"])]
        )
        assert (out / "jurisdictions.csv").read_text().startswith("code,name,kind,")

    def test_keys_create(self, tmp_path: Path) -> None:
        result = juriscope(
            "keys", "create", "--name", "first", "--scope", "admin", data_dir=tmp_path
        )
        assert result.returncode == 0, result.stderr
        first, second, key = result.stdout.splitlines()
        assert first.startswith("Created key_") and first.endswith(" (admin) named 'first'.")
        assert second == "Store the key now; it cannot be shown again:"
        assert key.startswith("jsk_")

    def test_keys_revoke(self, tmp_path: Path) -> None:
        result = juriscope("keys", "revoke", "key_00000000", data_dir=tmp_path)
        assert result.returncode == 1
        assert result.stderr == "juriscope: error: No API key with id 'key_00000000'.\n"


def _schema_commands(tmp_path: Path) -> dict[str, list[str]]:
    return {
        "seed": ["seed"],
        "import": ["import", str(_sample_sources(tmp_path))],
        "export": ["export", str(tmp_path / "out")],
        "keys create": ["keys", "create", "--name", "x", "--scope", "write"],
        "keys revoke": ["keys", "revoke", "key_00000000"],
    }


SCHEMA_COMMANDS = ["seed", "import", "export", "keys create", "keys revoke"]


class TestExternalDatabaseNotAtHead:
    """With DATABASE_URL, the commands never migrate: upgrading is the operator's call."""

    @pytest.mark.parametrize("command", SCHEMA_COMMANDS)
    async def test_no_schema_stops_with_one_line(
        self, scratch_database: str, tmp_path: Path, command: str
    ) -> None:
        await asyncio.to_thread(migrate.downgrade, scratch_database, "base")
        args = _schema_commands(tmp_path)[command]
        result = juriscope(*args, data_dir=tmp_path, database_url=scratch_database)
        assert result.returncode == 1
        assert result.stderr == (
            "juriscope: error: the database has no Juriscope schema; run `juriscope db upgrade`\n"
        )
        assert result.stdout == ""
        assert await asyncio.to_thread(migrate.current_revision_of, scratch_database) is None

    async def test_an_older_schema_stops_with_one_line(
        self, scratch_database: str, tmp_path: Path
    ) -> None:
        await asyncio.to_thread(migrate.downgrade, scratch_database, "-1")
        older = await asyncio.to_thread(migrate.current_revision_of, scratch_database)
        result = juriscope("seed", data_dir=tmp_path, database_url=scratch_database)
        assert result.returncode == 1
        assert result.stderr == (
            f"juriscope: error: the database schema is at {older}, behind the latest "
            f"{migrate.head_revision()}; run `juriscope db upgrade`\n"
        )
        assert await asyncio.to_thread(migrate.current_revision_of, scratch_database) == older

    async def test_an_unknown_revision_stops_with_one_line(
        self, scratch_database: str, tmp_path: Path
    ) -> None:
        await _execute(scratch_database, "UPDATE alembic_version SET version_num = 'f00dfeed0000'")
        result = juriscope(
            "export", str(tmp_path), data_dir=tmp_path, database_url=scratch_database
        )
        assert result.returncode == 1
        assert result.stderr == (
            "juriscope: error: the database schema is at f00dfeed0000, a revision this "
            "version of Juriscope does not know; use the version that migrated it\n"
        )


async def _execute(url: str, statement: str) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


class TestDatabaseErrors:
    async def test_a_failing_statement_is_one_line_without_sql(
        self, scratch_database: str, tmp_path: Path
    ) -> None:
        # A schema changed behind Juriscope's back: at head by its revision, a table gone.
        await _execute(scratch_database, "DROP TABLE feature CASCADE")
        result = juriscope("seed", data_dir=tmp_path, database_url=scratch_database)
        assert result.returncode == 1
        assert (
            result.stderr == 'juriscope: error: database error: relation "feature" does not exist\n'
        )

    def test_an_unreachable_database_is_one_line(self, tmp_path: Path) -> None:
        result = juriscope(
            "seed", data_dir=tmp_path, database_url="postgresql://nobody@127.0.0.1:1/none"
        )
        assert result.returncode == 1
        assert result.stderr == (
            "juriscope: error: cannot reach the database: "
            "[Errno 111] Connect call failed ('127.0.0.1', 1)\n"
        )

    def test_an_embedded_database_at_an_unknown_revision_is_one_line(self, tmp_path: Path) -> None:
        assert juriscope("db", "upgrade", data_dir=tmp_path).returncode == 0
        with embedded_database(tmp_path) as url:
            asyncio.run(_execute(url, "UPDATE alembic_version SET version_num = 'f00dfeed0000'"))
        result = juriscope("seed", data_dir=tmp_path)
        assert result.returncode == 1
        assert result.stderr == (
            "juriscope: error: the database schema is at f00dfeed0000, a revision this "
            "version of Juriscope does not know; use the version that migrated it\n"
        )
