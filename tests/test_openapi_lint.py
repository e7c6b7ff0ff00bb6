"""The OpenAPI document passes Redocly's recommended rules and Spectral's `spectral:oas` with
0 errors and 0 warnings (tests/clients/ts/redocly.yaml and .spectral.yaml switch rules off
only with a reason). Needs `npm ci --prefix tests/clients/ts`; skipped otherwise."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from app.core.config import Settings
from app.main import create_app

PROJECT = Path(__file__).parent / "clients" / "ts"
BIN = PROJECT / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None:
        pytest.skip("OpenAPI lint: node is not installed")
    if not (BIN / "redocly").exists() or not (BIN / "spectral").exists():
        pytest.skip("OpenAPI lint: run `npm ci --prefix tests/clients/ts` first")
    path = tmp_path_factory.mktemp("lint") / "openapi.json"
    spec = create_app(
        Settings(env="test", database_url="postgresql://nobody@127.0.0.1:1/none")
    ).openapi()
    path.write_text(json.dumps(spec))
    return path


def test_redocly_recommended_finds_nothing(document: Path) -> None:
    result = subprocess.run(
        [
            str(BIN / "redocly"),
            "lint",
            str(document),
            "--config",
            str(PROJECT / "redocly.yaml"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT,
    )
    report = json.loads(result.stdout)
    problems = [
        f"{p['severity']} {p['ruleId']} {p['location'][0]['pointer']}: {p['message']}"
        for p in report["problems"]
    ]
    assert problems == []
    assert (report["totals"]["errors"], report["totals"]["warnings"]) == (0, 0)


def test_spectral_oas_finds_nothing(document: Path) -> None:
    result = subprocess.run(
        [
            str(BIN / "spectral"),
            "lint",
            str(document),
            "--ruleset",
            str(PROJECT / ".spectral.yaml"),
            "--format",
            "json",
            "--fail-severity",
            "hint",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT,
    )
    findings = json.loads(result.stdout or "[]")
    assert [f"{f['code']} {'.'.join(map(str, f['path']))}" for f in findings] == []
    assert result.returncode == 0, result.stderr
