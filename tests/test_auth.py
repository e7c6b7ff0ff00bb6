"""Who may call what: API keys on writes and admin endpoints, and the public-read switch."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.config import Settings
from app.keys import service as keys_service
from app.keys.schemas import KeyCreated
from tests.dataset.sample import sample
from tests.keys.helpers import (
    bearer,
    build_app,
    changes_since,
    create_api_key,
    last_change_id,
    settings_for,
)
from tests.test_errors import assert_problem

SOURCE = {"publisher": "Zed Gazette", "title": "Zed Act", "kind": "law"}

# (method, path, body): a representative write and the two admin endpoints.
WRITE = ("PUT", "/v1/sources/zz-auth", SOURCE)
CREATE_KEY = ("POST", "/v1/keys", {"name": "someone", "scopes": ["write"]})
IMPORT = ("POST", "/v1/imports", {"sources": [{"id": "zz-imported", **SOURCE}]})
ALL = [WRITE, CREATE_KEY, IMPORT]
IDS = ["write", "create-key", "import"]


async def _call(
    client: AsyncClient, call: tuple[str, str, dict[str, Any]], headers: dict[str, str]
) -> Any:
    method, path, body = call
    return await client.request(method, path, json=body, headers=headers)


@pytest.fixture
async def writer(session: AsyncSession) -> KeyCreated:
    return await create_api_key(session, "write", name="writer")


@pytest.fixture
async def admin(session: AsyncSession) -> KeyCreated:
    return await create_api_key(session, "admin", name="admin")


class TestMissingOrBadKey:
    @pytest.mark.parametrize("call", ALL, ids=IDS)
    async def test_no_key_is_401_with_bearer_challenge(
        self, client: AsyncClient, session: AsyncSession, call: tuple[str, str, dict[str, Any]]
    ) -> None:
        since = await last_change_id(session)
        response = await _call(client, call, {})
        body = assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        assert body["detail"] == "This operation needs an API key: `Authorization: Bearer <key>`."
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize(
        "authorization",
        [
            "Bearer nonsense",
            "Bearer jsk_deadbeef",
            "Bearer jsk_deadbeef_unknownsecret",
            "Bearer xyz_deadbeef_unknownsecret",
        ],
        ids=["malformed", "two-parts", "unknown-id", "wrong-prefix"],
    )
    @pytest.mark.parametrize("call", ALL, ids=IDS)
    async def test_malformed_or_unknown_key_is_401(
        self,
        client: AsyncClient,
        session: AsyncSession,
        call: tuple[str, str, dict[str, Any]],
        authorization: str,
    ) -> None:
        since = await last_change_id(session)
        response = await _call(client, call, {"Authorization": authorization})
        body = assert_problem(response, 401)
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert body["detail"] == "The API key is unknown or revoked."
        assert await changes_since(client, since) == []

    async def test_known_id_with_a_wrong_secret_is_401(
        self, client: AsyncClient, admin: KeyCreated
    ) -> None:
        forged = admin.key[: admin.key.rindex("_") + 1] + "x" * 43
        response = await _call(client, WRITE, bearer(forged))
        assert_problem(response, 401)

    async def test_other_scheme_than_bearer_counts_as_no_key(
        self, client: AsyncClient, admin: KeyCreated
    ) -> None:
        response = await _call(client, WRITE, {"Authorization": f"Basic {admin.key}"})
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"

    @pytest.mark.parametrize("call", ALL, ids=IDS)
    async def test_revoked_key_is_401(
        self,
        client: AsyncClient,
        session: AsyncSession,
        admin: KeyCreated,
        call: tuple[str, str, dict[str, Any]],
    ) -> None:
        await keys_service.revoke_key(session, key_id=admin.id, actor="test")
        since = await last_change_id(session)
        response = await _call(client, call, bearer(admin))
        body = assert_problem(response, 401)
        assert body["detail"] == "The API key is unknown or revoked."
        assert await changes_since(client, since) == []


class TestScopes:
    @pytest.mark.parametrize("call", [CREATE_KEY, IMPORT], ids=["create-key", "import"])
    async def test_write_key_on_admin_endpoint_is_403(
        self,
        client: AsyncClient,
        session: AsyncSession,
        writer: KeyCreated,
        call: tuple[str, str, dict[str, Any]],
    ) -> None:
        since = await last_change_id(session)
        body = assert_problem(await _call(client, call, bearer(writer)), 403)
        assert body["detail"] == f"The API key {writer.id} lacks the 'admin' scope."
        assert await changes_since(client, since) == []

    @pytest.mark.parametrize(
        ("method", "path"), [("GET", "/v1/keys"), ("DELETE", "/v1/keys/key_00000000")]
    )
    async def test_write_key_cannot_list_or_revoke_keys(
        self, client: AsyncClient, writer: KeyCreated, method: str, path: str
    ) -> None:
        assert_problem(await client.request(method, path, headers=bearer(writer)), 403)

    async def test_write_key_writes(self, client: AsyncClient, writer: KeyCreated) -> None:
        response = await _call(client, WRITE, bearer(writer))
        assert response.status_code == 201
        assert response.json()["id"] == "zz-auth"

    @pytest.mark.parametrize(("call", "status"), [(WRITE, 201), (CREATE_KEY, 201), (IMPORT, 200)])
    async def test_admin_key_writes_and_administers(
        self,
        client: AsyncClient,
        admin: KeyCreated,
        call: tuple[str, str, dict[str, Any]],
        status: int,
    ) -> None:
        response = await _call(client, call, bearer(admin))
        assert response.status_code == status, response.text

    async def test_the_change_record_names_the_key(
        self, client: AsyncClient, session: AsyncSession, writer: KeyCreated
    ) -> None:
        since = await last_change_id(session)
        await _call(client, WRITE, bearer(writer))
        [change] = await changes_since(client, since)
        assert (change["actor"], change["entity"], change["entity_key"]) == (
            writer.id,
            "source",
            "zz-auth",
        )

    async def test_public_reads_need_no_key_but_refuse_a_bad_one(self, client: AsyncClient) -> None:
        assert (await client.get("/v1/sources")).status_code == 200
        response = await client.get("/v1/sources", headers=bearer("jsk_deadbeef_nope"))
        assert_problem(response, 401)


@pytest.fixture
async def private_client(
    settings: Settings, engine: AsyncEngine, session: AsyncSession
) -> AsyncIterator[AsyncClient]:
    app = build_app(settings_for(settings, public_read=False), engine, session)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


READS = [
    ("GET", "/v1/jurisdictions", None),
    ("GET", "/v1/jurisdictions/HK", None),
    ("GET", "/v1/features", None),
    ("GET", "/v1/metrics", None),
    ("GET", "/v1/sources", None),
    ("GET", "/v1/events", None),
    ("GET", "/v1/changes", None),
    ("GET", "/v1/indices", None),
    ("GET", "/v1/compare?jurisdictions=HK,SG", None),
    (
        "POST",
        "/v1/scenarios/evaluate",
        {"index": "va_hub_competitiveness", "jurisdiction": "HK", "overrides": []},
    ),
]


class TestPrivateReads:
    @pytest.mark.parametrize(("method", "path", "body"), READS, ids=[r[1] for r in READS])
    async def test_reads_need_a_key(
        self, private_client: AsyncClient, method: str, path: str, body: Any
    ) -> None:
        response = await private_client.request(method, path, json=body)
        body = assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        assert body["detail"] == (
            "Reads need an API key on this server: `Authorization: Bearer <key>`."
        )

    @pytest.mark.parametrize(("method", "path", "body"), READS, ids=[r[1] for r in READS])
    async def test_any_valid_key_reads(
        self,
        private_client: AsyncClient,
        writer: KeyCreated,
        method: str,
        path: str,
        body: Any,
    ) -> None:
        response = await private_client.request(method, path, json=body, headers=bearer(writer))
        assert response.status_code == 200, response.text

    async def test_admin_key_reads(self, private_client: AsyncClient, admin: KeyCreated) -> None:
        response = await private_client.get("/v1/jurisdictions/HK", headers=bearer(admin))
        assert response.status_code == 200

    async def test_revoked_key_does_not_read(
        self, private_client: AsyncClient, session: AsyncSession, writer: KeyCreated
    ) -> None:
        await keys_service.revoke_key(session, key_id=writer.id, actor="test")
        response = await private_client.get("/v1/jurisdictions", headers=bearer(writer))
        assert_problem(response, 401)

    @pytest.mark.parametrize(("path", "body"), [("/healthz", {"status": "ok"}), ("/readyz", None)])
    async def test_probes_stay_open(
        self, private_client: AsyncClient, path: str, body: dict[str, str] | None
    ) -> None:
        response = await private_client.get(path)
        assert response.status_code == 200
        if body is not None:
            assert response.json() == body
        else:
            assert response.json()["status"] == "ready"

    async def test_writes_still_need_the_write_scope(
        self, private_client: AsyncClient, writer: KeyCreated
    ) -> None:
        response = await private_client.post("/v1/imports", json=sample(), headers=bearer(writer))
        assert_problem(response, 403)
