"""The processes the benchmark starts (the API server, nginx), each stopped whatever happens.

Both run in a session of their own, so a Ctrl-C in the terminal reaches only this script,
which then stops them in order; a process that ignores SIGTERM for 15 s is killed, together
with the children it started (its process group), and nothing else.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(process: subprocess.Popen[bytes], name: str, *, grace: float = 15.0) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL the process group it leads."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            print(f"{name} ignored SIGTERM for {grace:g} s; killing it", file=sys.stderr)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # leftovers of its own group (workers), if any
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def juriscope_command() -> str:
    """The `juriscope` script of the running virtualenv (or of PATH)."""
    beside = Path(sys.executable).parent / "juriscope"
    return str(beside) if beside.exists() else shutil.which("juriscope") or "juriscope"


@contextlib.contextmanager
def api_server(
    database_url: str,
    out_dir: Path,
    *,
    workers: int = 2,
    settings: dict[str, str] | None = None,
    name: str = "server",
) -> Iterator[str]:
    """`juriscope serve` on a free port of 127.0.0.1 against `database_url`, with extra
    `settings` in its environment; yields its base URL once GET /readyz answers 200 (60 s at
    most). Its output goes to `out_dir/{name}.log`."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JURISCOPE_SEED_ON_START": "false",
        "JURISCOPE_CACHE_MAX_AGE": "60",
        # A load test from one address is what a rate limiter exists to stop.
        "JURISCOPE_RATE_LIMIT": "100000000/minute",
        **(settings or {}),
    }
    env.pop("DATABASE_READ_URL", None)
    command = [juriscope_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--no-migrate", "--no-access-log"]
    log_path = out_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the API server exited with {process.returncode}:\n{_log_tail(log_path)}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API server was not ready in 60 s:\n{_log_tail(log_path)}")
            time.sleep(0.25)
        yield base
    finally:
        stop(process, "the API server")


@dataclass(frozen=True)
class StaticFile:
    """A body served by nginx at `/{name}` with the API's Content-Type."""

    name: str
    path: Path
    content_type: str
    encoding: str | None = None


def nginx_path() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def _encoding(file: StaticFile) -> str:
    if file.encoding is None:
        return ""
    return f"\n            add_header Content-Encoding {file.encoding};"


def _nginx_conf(out_dir: Path, port: int, files: list[StaticFile], *, modules: str) -> str:
    temp = out_dir / "nginx-tmp"
    temp_paths = [f"client_body_temp_path {temp}/body;"]
    for module in ("proxy", "fastcgi", "uwsgi", "scgi"):
        if f"--without-http_{module}_module" not in modules:
            temp_paths.append(f"{module}_temp_path {temp}/{module};")
    locations = "\n".join(
        f"""        location = /{f.name} {{
            types {{ }}
            default_type "{f.content_type}";{_encoding(f)}
            alias {f.path};
        }}"""
        for f in files
    )
    newline = "\n        "
    return f"""# Written by bench/run.py: the API's response bodies as static files (the ceiling).
worker_processes 2;
daemon off;
pid {out_dir}/nginx.pid;
error_log {out_dir}/nginx-error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    {newline.join(temp_paths)}
    server {{
        listen 127.0.0.1:{port};
{locations}
    }}
}}
"""


@contextlib.contextmanager
def nginx(out_dir: Path, files: list[StaticFile]) -> Iterator[str]:
    """nginx (2 workers, no access log) serving `files`; yields its base URL."""
    binary = nginx_path()
    if binary is None:
        raise FileNotFoundError("nginx is not installed")
    port = free_port()
    modules = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=10).stderr
    (out_dir / "nginx-tmp").mkdir(parents=True, exist_ok=True)
    conf = out_dir / "nginx.conf"
    conf.write_text(_nginx_conf(out_dir, port, files, modules=modules))
    error_log = out_dir / "nginx-error.log"
    command = [binary, "-c", str(conf), "-p", f"{out_dir}/", "-e", str(error_log)]
    with (out_dir / "nginx.out").open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        probe = f"{base}/{files[0].name}"
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"nginx exited with {process.returncode}:\n{_log_tail(error_log)}"
                )
            with contextlib.suppress(httpx.HTTPError):
                status = httpx.get(probe, timeout=2).status_code
                if status != 200:
                    raise RuntimeError(
                        f"nginx answers {status} for {probe}:\n{_log_tail(error_log)}"
                    )
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not answer in 15 s:\n{_log_tail(error_log)}")
            time.sleep(0.1)
        yield base
    finally:
        stop(process, "nginx")
