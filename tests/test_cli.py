"""The `juriscope` command run as a user runs it: real processes, a real uvicorn."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from app.embedded import server_pid

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "JURISCOPE_"))}
    env["JURISCOPE_DATA_DIR"] = str(data_dir)
    return env


def juriscope(*args: str, data_dir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=_env(data_dir),
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
