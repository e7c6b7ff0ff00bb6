"""The TypeScript SDK as a frontend developer generates it: @hey-api/openapi-ts on this
document, compiled with `tsc --strict`, run against a live `juriscope serve`
(tests/clients/ts/src/main.ts: pagination to the end, compare, scores, a scenario, a 404 and
a 422 read as typed problems, an ETag revalidation, CSV, rate-limit headers).

Needs Node.js, npm and `npm ci` in tests/clients/ts (`.ci/run` does it); skipped otherwise."""

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import Settings
from app.main import create_app
from tests.test_cli import _env, _free_port, _wait_ready

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).parent / "clients" / "ts"
MISSING = [tool for tool in ("node", "npm") if shutil.which(tool) is None]


@pytest.fixture(scope="module")
def compiled() -> Path:
    if MISSING:
        pytest.skip(f"TypeScript SDK test: {' and '.join(MISSING)} not installed")
    if not (PROJECT / "node_modules" / ".bin" / "openapi-ts").exists():
        pytest.skip("TypeScript SDK test: run `npm ci --prefix tests/clients/ts` first")
    document = create_app(
        Settings(env="test", database_url="postgresql://nobody@127.0.0.1:1/none")
    ).openapi()
    (PROJECT / "openapi.json").write_text(json.dumps(document))
    shutil.rmtree(PROJECT / "src" / "generated", ignore_errors=True)
    shutil.rmtree(PROJECT / "dist", ignore_errors=True)
    for script in ("generate", "build"):
        result = subprocess.run(
            ["npm", "run", "--silent", script],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"npm run {script}:\n{result.stdout}{result.stderr}"
    return PROJECT / "dist" / "main.js"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=_env(tmp_path_factory.mktemp("serve")),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_ready(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_generated_sdk_compiles_strict_and_works(compiled: Path, live: str) -> None:
    result = subprocess.run(
        ["node", str(compiled)],
        env={"PATH": _env(Path("/nonexistent"))["PATH"], "JURISCOPE_URL": live},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "9 passed, 0 failed", result.stdout
