"""The response cache never serves one caller what another was allowed to see (issue 10:
findings 1, 3 and 8)."""

from tests.security.conftest import Serve, World, bearer

KEY_CHANGES = "/v1/changes?entity=api_key"


async def test_an_admins_view_of_key_changes_is_not_replayed_to_anyone_else(
    world: World, serve: Serve
) -> None:
    async with serve() as client:
        admin = await client.get(KEY_CHANGES, headers=bearer(world.admin_key))
        assert admin.status_code == 200
        assert admin.json()["items"], "the admin sees the key creations"
        assert (await client.get(KEY_CHANGES, headers=bearer(world.admin_key))).headers[
            "x-cache"
        ] == "hit"
        for headers in ({}, bearer(world.write_key)):
            for suffix in ("", "&format=csv"):
                other = await client.get(KEY_CHANGES + suffix, headers=headers)
                assert other.status_code == 200
                assert "key_" not in other.text, "key ids leaked to a non-admin caller"


async def test_an_anonymous_fill_does_not_hide_data_from_an_admin(
    world: World, serve: Serve
) -> None:
    async with serve() as client:
        anonymous = await client.get(KEY_CHANGES)
        assert anonymous.json()["items"] == []
        admin = await client.get(KEY_CHANGES, headers=bearer(world.admin_key))
        assert admin.headers["x-cache"] == "miss"
        assert admin.json()["items"]


async def test_a_bogus_or_revoked_key_is_refused_even_when_the_url_is_cached(
    world: World, serve: Serve
) -> None:
    async with serve() as client:
        url = "/v1/jurisdictions"
        assert (await client.get(url)).status_code == 200
        assert (await client.get(url)).headers["x-cache"] == "hit"
        for token in ("jsk_bogus", "jsk_00000000_notakey", "not-a-key"):
            refused = await client.get(url, headers={"Authorization": f"Bearer {token}"})
            assert refused.status_code == 401, token
            assert refused.headers["content-type"] == "application/problem+json"
        public_id = world.write_key.split("_")[1]
        revoked = await client.delete(f"/v1/keys/key_{public_id}", headers=bearer(world.admin_key))
        assert revoked.status_code in (200, 204)
        refused = await client.get(url, headers=bearer(world.write_key))
        assert refused.status_code == 401


async def test_the_host_header_never_reaches_a_cached_link(world: World, serve: Serve) -> None:
    async with serve() as client:
        poisoned = await client.get("/v1/sources?limit=1", headers={"Host": "evil.example"})
        assert poisoned.status_code == 200
        assert "evil.example" not in poisoned.headers["link"]
        later = await client.get("/v1/sources?limit=1")
        assert later.headers["x-cache"] == "hit"
        assert later.headers["link"].startswith("</v1/sources?limit=1&cursor=")


async def test_links_are_absolute_on_the_configured_public_url(world: World, serve: Serve) -> None:
    async with serve(public_url="https://api.example.org/") as client:
        response = await client.get("/v1/sources?limit=1", headers={"Host": "evil.example"})
        assert response.headers["link"].startswith("<https://api.example.org/v1/sources?")


async def test_the_cache_is_bounded_in_bytes(world: World, serve: Serve) -> None:
    async with serve(response_cache_bytes=2_000) as client:
        app = client._transport.app
        for limit in range(1, 30):
            assert (await client.get(f"/v1/sources?limit={limit}")).status_code == 200
        cache = app.middleware_stack
        while not hasattr(cache, "store"):
            cache = cache.app
        assert cache.bytes <= 2_000
        assert sum(entry.size for entry in cache.store.values()) == cache.bytes
