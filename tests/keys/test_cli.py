"""`juriscope keys create|revoke` run as a user runs them, on an embedded data directory."""

import hashlib
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url

from app.cli.embedded import embedded_database
from app.core.config import Settings
from app.core.db import Database
from app.main import create_app
from tests.keys.helpers import KEY_PATTERN, bearer
from tests.test_cli import juriscope

pytestmark = pytest.mark.slow


def _created(result: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    """(key id, key) from the output of `keys create`."""
    assert result.returncode == 0, result.stderr
    key = result.stdout.splitlines()[-1]
    key_id = re.search(r"Created (key_[0-9a-f]{8}) ", result.stdout)
    assert key_id is not None, result.stdout
    return key_id.group(1), key


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys-cli")
    upgraded = juriscope("db", "upgrade", data_dir=path)
    assert upgraded.returncode == 0, upgraded.stderr
    return path


@pytest.fixture(scope="module")
def created(data_dir: Path) -> tuple[str, str, subprocess.CompletedProcess[str]]:
    result = juriscope("keys", "create", "--name", "x", "--scope", "write", data_dir=data_dir)
    key_id, key = _created(result)
    return key_id, key, result


@pytest.fixture
def url(data_dir: Path) -> Iterator[str]:
    with embedded_database(data_dir) as database_url:
        yield database_url


async def _row(url: str, key_id: str) -> dict[str, object]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT row_to_json(k)::text AS json, hash, revoked_at FROM api_key k "
            "WHERE public_id = $1",
            key_id,
        )
    finally:
        await connection.close()
    assert row is not None
    return dict(row)


class TestKeysCreate:
    def test_prints_the_key_alone_on_the_last_line(
        self, created: tuple[str, str, subprocess.CompletedProcess[str]]
    ) -> None:
        key_id, key, result = created
        assert re.match(KEY_PATTERN, key)
        assert key.startswith(f"jsk_{key_id.removeprefix('key_')}_")
        assert result.stdout.count(key) == 1
        assert result.stdout.splitlines()[0] == f"Created {key_id} (write) named 'x'."

    async def test_stores_only_the_sha256(
        self, created: tuple[str, str, subprocess.CompletedProcess[str]], url: str
    ) -> None:
        key_id, key, _ = created
        row = await _row(url, key_id)
        assert row["hash"] == hashlib.sha256(key.encode()).hexdigest()
        # The whole secret (after `jsk_<id>_`; it may itself contain `_`), never a fragment of
        # it, which a short one could match by chance.
        assert key.split("_", 2)[2] not in str(row["json"])
        assert json.loads(str(row["json"]))["scopes"] == ["write"]

    async def test_the_key_writes_through_an_app_on_that_database(
        self, created: tuple[str, str, subprocess.CompletedProcess[str]], url: str
    ) -> None:
        _, key, _ = created
        settings = Settings(env="test", database_url=url)
        database = Database.connect(settings, url)
        app = create_app(settings, database=database)
        try:
            async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
                response = await client.put(
                    "/v1/sources/zz-cli",
                    json={"publisher": "P", "title": "T", "kind": "law"},
                    headers=bearer(key),
                )
        finally:
            await database.dispose()
        assert response.status_code == 201, response.text

    def test_unknown_scope_is_one_line_error(self, data_dir: Path) -> None:
        result = juriscope("keys", "create", "--name", "x", "--scope", "read", data_dir=data_dir)
        assert result.returncode == 1
        assert result.stderr == "juriscope: error: --scope must be write or admin, not read\n"


class TestKeysRevoke:
    async def test_marks_the_key_revoked(self, data_dir: Path) -> None:
        key_id, _ = _created(
            juriscope("keys", "create", "--name", "old", "--scope", "admin", data_dir=data_dir)
        )
        result = juriscope("keys", "revoke", key_id, data_dir=data_dir)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"Revoked {key_id} at ")
        with embedded_database(data_dir) as url:
            row = await _row(url, key_id)
        assert row["revoked_at"] is not None

    def test_unknown_id_exits_1_with_one_line(self, data_dir: Path) -> None:
        result = juriscope("keys", "revoke", "key_00000000", data_dir=data_dir)
        assert result.returncode == 1
        assert result.stderr == "juriscope: error: No API key with id 'key_00000000'.\n"
        assert result.stdout == ""
