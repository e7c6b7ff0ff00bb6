import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.keys.models import ApiKey
from app.keys.schemas import KeyCreated
from tests.keys.helpers import KEY_PATTERN, bearer, changes_since, create_api_key, last_change_id
from tests.test_errors import assert_problem

SOURCE = {"publisher": "Zed Gazette", "title": "Zed Act", "kind": "law"}


@pytest.fixture
async def admin(session: AsyncSession) -> KeyCreated:
    return await create_api_key(session, "admin", name="admin")


class TestCreateKey:
    async def test_returns_the_secret_once_and_stores_its_hash(
        self, client: AsyncClient, session: AsyncSession, admin: KeyCreated
    ) -> None:
        response = await client.post(
            "/v1/keys", json={"name": "importer", "scopes": ["write"]}, headers=bearer(admin)
        )
        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"id", "name", "scopes", "created_at", "revoked_at", "key"}
        assert re.match(r"^key_[0-9a-f]{8}$", body["id"])
        assert re.match(KEY_PATTERN, body["key"])
        assert body["key"].startswith(f"jsk_{body['id'].removeprefix('key_')}_")
        assert (body["name"], body["scopes"], body["revoked_at"]) == ("importer", ["write"], None)
        created_at = datetime.fromisoformat(body["created_at"])
        assert abs(created_at - datetime.now(UTC)) < timedelta(minutes=5)
        row = await session.scalar(select(ApiKey).where(ApiKey.public_id == body["id"]))
        assert row is not None
        assert row.hash == hashlib.sha256(body["key"].encode()).hexdigest()

    async def test_the_new_key_writes(self, client: AsyncClient, admin: KeyCreated) -> None:
        created = await client.post(
            "/v1/keys", json={"name": "w", "scopes": ["write"]}, headers=bearer(admin)
        )
        response = await client.put(
            "/v1/sources/zz-new-key", json=SOURCE, headers=bearer(created.json()["key"])
        )
        assert response.status_code == 201

    async def test_scopes_are_a_sorted_set(self, client: AsyncClient, admin: KeyCreated) -> None:
        response = await client.post(
            "/v1/keys",
            json={"name": "both", "scopes": ["write", "admin", "write"]},
            headers=bearer(admin),
        )
        assert response.json()["scopes"] == ["admin", "write"]

    async def test_change_record_never_holds_the_secret(
        self, client: AsyncClient, session: AsyncSession, admin: KeyCreated
    ) -> None:
        since = await last_change_id(session)
        response = await client.post(
            "/v1/keys", json={"name": "importer", "scopes": ["write"]}, headers=bearer(admin)
        )
        created = response.json()
        [change] = await changes_since(client, since, bearer(admin))
        assert change["actor"] == admin.id
        assert (change["entity"], change["entity_key"], change["action"]) == (
            "api_key",
            created["id"],
            "create",
        )
        assert change["before"] is None
        assert change["after"] == {k: v for k, v in created.items() if k != "key"}
        secret = created["key"].rsplit("_", 1)[1]
        assert secret not in str(change)

    @pytest.mark.parametrize(
        ("body", "loc"),
        [
            ({"name": "x", "scopes": []}, ["body", "scopes"]),
            ({"name": "x", "scopes": ["read"]}, ["body", "scopes", 0]),
            ({"name": "", "scopes": ["write"]}, ["body", "name"]),
            ({"scopes": ["write"]}, ["body", "name"]),
            ({"name": "x", "scopes": ["write"], "hash": "0" * 64}, ["body", "hash"]),
        ],
        ids=["no-scope", "unknown-scope", "empty-name", "missing-name", "extra-field"],
    )
    async def test_invalid_body_is_422_and_creates_nothing(
        self,
        client: AsyncClient,
        session: AsyncSession,
        admin: KeyCreated,
        body: dict[str, object],
        loc: list[str | int],
    ) -> None:
        since = await last_change_id(session)
        response = await client.post("/v1/keys", json=body, headers=bearer(admin))
        problem = assert_problem(response, 422)
        assert [e["loc"] for e in problem["errors"]] == [loc]
        assert await changes_since(client, since) == []

    async def test_malformed_json_is_400(self, client: AsyncClient, admin: KeyCreated) -> None:
        response = await client.post(
            "/v1/keys",
            content=b'{"name": "x", ',
            headers={**bearer(admin), "content-type": "application/json"},
        )
        assert_problem(response, 400)


class TestListKeys:
    async def test_newest_first_without_secrets(
        self, client: AsyncClient, session: AsyncSession, admin: KeyCreated
    ) -> None:
        older = await create_api_key(session, "write", name="older")
        newer = await create_api_key(session, "write", name="newer")
        response = await client.get("/v1/keys", headers=bearer(admin))
        assert response.status_code == 200
        items = response.json()["items"]
        assert [i["id"] for i in items[:3]] == [newer.id, older.id, admin.id]
        assert all(set(i) == {"id", "name", "scopes", "created_at", "revoked_at"} for i in items)
        assert newer.key not in response.text


class TestRevokeKey:
    async def test_revoked_key_stops_working_at_once(
        self, client: AsyncClient, session: AsyncSession, admin: KeyCreated
    ) -> None:
        writer = await create_api_key(session, "write", name="leaked")
        since = await last_change_id(session)
        response = await client.delete(f"/v1/keys/{writer.id}", headers=bearer(admin))
        assert response.status_code == 200
        body = response.json()
        assert (body["id"], body["name"], body["scopes"]) == (writer.id, "leaked", ["write"])
        assert body["revoked_at"] is not None
        refused = await client.put("/v1/sources/zz-leak", json=SOURCE, headers=bearer(writer))
        assert_problem(refused, 401)
        [change] = await changes_since(client, since, bearer(admin))
        assert (change["action"], change["entity_key"], change["actor"]) == (
            "revoke",
            writer.id,
            admin.id,
        )
        assert change["before"]["revoked_at"] is None
        assert change["after"]["revoked_at"] == body["revoked_at"]

    async def test_revoking_twice_is_idempotent(
        self, client: AsyncClient, session: AsyncSession, admin: KeyCreated
    ) -> None:
        writer = await create_api_key(session, "write")
        first = await client.delete(f"/v1/keys/{writer.id}", headers=bearer(admin))
        since = await last_change_id(session)
        second = await client.delete(f"/v1/keys/{writer.id}", headers=bearer(admin))
        assert second.status_code == 200
        assert second.json() == first.json()
        assert await changes_since(client, since) == []

    async def test_unknown_id_is_404_naming_it(
        self, client: AsyncClient, admin: KeyCreated
    ) -> None:
        body = assert_problem(
            await client.delete("/v1/keys/key_00000000", headers=bearer(admin)), 404
        )
        assert body["detail"] == "No API key with id 'key_00000000'."

    async def test_malformed_id_is_422(self, client: AsyncClient, admin: KeyCreated) -> None:
        body = assert_problem(await client.delete("/v1/keys/nope", headers=bearer(admin)), 422)
        assert body["errors"][0]["loc"] == ["path", "id"]


class TestKeysInTheChangeFeed:
    async def test_anonymous_readers_do_not_see_keys(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        since = await last_change_id(session)
        await create_api_key(session, "admin", name="ops laptop")
        response = await client.get("/v1/changes", params={"since": since, "entity": "api_key"})
        assert "ops laptop" not in response.text
