"""What can be tested of the container without Docker: the entrypoint and the image's env."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"

pytestmark = pytest.mark.slow


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env={"PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_refuses_to_start_without_a_database_url() -> None:
    result = _run("serve", env={})
    assert result.returncode == 2
    assert "DATABASE_URL is not set" in result.stderr


def test_migrate_upgrades_and_seeds_an_empty_database_once(scratch_database: str) -> None:
    env = {"DATABASE_URL": scratch_database, "JURISCOPE_ENV": "production"}
    first = _run("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "Seeded:" in first.stdout
    second = _run("migrate", env=env)
    assert second.returncode == 0, second.stderr
    assert "nothing loaded" in second.stdout
    current = _run("db", "current", env=env)
    assert "(at head)" in current.stdout


def test_juriscope_as_the_first_word_runs_that_command() -> None:
    result = _run(
        "juriscope", "keys", "--help", env={"DATABASE_URL": "postgresql://x@127.0.0.1:1/x"}
    )
    assert result.returncode == 0, result.stderr
    assert "create" in result.stdout


def test_production_settings_refuse_the_embedded_database() -> None:
    from pydantic import ValidationError

    from app.core.config import Settings

    with pytest.raises(ValidationError, match="DATABASE_URL must be set"):
        Settings(env="production", database_url=None)


def test_the_image_runs_migrations_from_the_copied_directory() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY migrations ./migrations" in dockerfile
    assert "JURISCOPE_MIGRATIONS_DIR=/srv/juriscope/migrations" in dockerfile
    assert "USER juriscope" in dockerfile
    assert "JURISCOPE_LOG_FORMAT=json" in dockerfile
    compose = (ROOT / "docker-compose.yml").read_text()
    assert 'command: ["migrate"]' in compose
    assert "condition: service_completed_successfully" in compose
    assert "/readyz" in compose


def test_the_image_builds_without_a_registry() -> None:
    """No frontend fetched by `# syntax=`, nothing only BuildKit accepts, the base passed in:
    docker/test.sh builds it so (`make docker-test`)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "# syntax" not in dockerfile
    assert "--chmod" not in dockerfile
    assert "ARG PYTHON_IMAGE=python:3.12-slim" in dockerfile
    assert dockerfile.index("COPY pyproject.toml") < dockerfile.index("COPY app")
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "image: ${POSTGRES_IMAGE:-postgres:17}" in compose
    assert "image: ${JURISCOPE_IMAGE:-juriscope}" in compose
    assert '"${JURISCOPE_PORT:-8000}:8000"' in compose
