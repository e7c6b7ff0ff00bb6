"""The explorer in a real browser: headless Chromium (Debian's) driven by playwright-core.

Starts `juriscope serve` on an embedded database with the bundled dataset and runs
tests/explorer/e2e.mjs against it. Needs node, /usr/bin/chromium (or $CHROMIUM) and
playwright-core in $JURISCOPE_E2E_DIR (default ~/.cache/juriscope-e2e): `.ci/run` installs
them (`.ci/e2e-deps`); elsewhere the test is skipped and says which is missing. Set
JURISCOPE_E2E_SCREENSHOTS=DIR to keep the screenshots.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import _env, _free_port, _wait_ready

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("e2e.mjs")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
MODULES = Path(
    os.environ.get("JURISCOPE_E2E_DIR")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "juriscope-e2e"
)


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    if not (MODULES / "node_modules" / "playwright-core" / "package.json").is_file():
        return f"playwright-core is not in {MODULES} (run .ci/e2e-deps)"
    return None


def test_explorer_in_headless_chromium(tmp_path: Path) -> None:
    missing = _missing()
    if missing:
        pytest.skip(f"browser test skipped: {missing}")
    shots = Path(os.environ.get("JURISCOPE_E2E_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-access-log"],
        env=_env(tmp_path / "data"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_ready(port, server)
        result = subprocess.run(
            ["node", str(SCRIPT), f"http://127.0.0.1:{port}", str(shots)],
            env={**os.environ, "PLAYWRIGHT_CORE_DIR": str(MODULES), "CHROMIUM": CHROMIUM},
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-2000:]
    findings = json.loads(result.stdout.strip().splitlines()[-1])
    assert findings["ranking"]["rows"] >= 10
    assert findings["reweighted"]["top"] != findings["ranking"]["top"]
    assert findings["compare"]["columns"][1:] == ["Hong Kong HK", "Singapore SG", "Dubai AE-DU"]
    assert findings["compare"]["sources"] >= 1
    assert findings["whatif"]["moved"] == ["regulatory_sandbox", "corporate_income_tax_pct"]
    assert findings["console"] == []
    for name in ("ranking", "compare", "compare-cell", "profile", "whatif", "phone-ranking"):
        assert (shots / f"{name}.png").stat().st_size > 10_000, name
