"""The explorer's page and assets: served from the package, with a strict CSP, outside the API."""

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from httpx import AsyncClient

from app.core.config import Settings
from app.explorer.router import CONTENT_SECURITY_POLICY, STATIC_DIR
from app.http.protection import SECURITY_HEADERS
from app.main import create_app

ROOT = Path(__file__).parents[2]
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "util.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "ranking.js": "text/javascript; charset=utf-8",
    "compare.js": "text/javascript; charset=utf-8",
    "profile.js": "text/javascript; charset=utf-8",
    "whatif.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


def _assert_explorer_headers(headers: object) -> None:
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY  # type: ignore[index]
    for name, value in SECURITY_HEADERS:
        assert headers[name.decode()] == value.decode()  # type: ignore[index]
    assert headers["cache-control"] == "no-cache"  # type: ignore[index]


class TestExplorerPage:
    async def test_root_is_the_explorer_html(self, client: AsyncClient) -> None:
        response = await client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        _assert_explorer_headers(response.headers)
        assert '<script type="module" src="/explorer/app.js"></script>' in response.text
        assert '<link rel="stylesheet" href="/explorer/app.css">' in response.text

    async def test_state_in_the_query_string_is_the_same_page(self, client: AsyncClient) -> None:
        plain = await client.get("/")
        shared = await client.get("/?view=compare&j=HK,SG,AE-DU&cell=f:stablecoin_regime:HK")
        assert shared.status_code == 200
        assert shared.content == plain.content

    async def test_the_policy_allows_this_origin_only(self) -> None:
        directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["connect-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in CONTENT_SECURITY_POLICY

    async def test_head_has_the_headers_of_get(self, client: AsyncClient) -> None:
        response = await client.head("/")
        assert response.status_code == 200
        assert response.content == b""
        _assert_explorer_headers(response.headers)

    async def test_not_in_the_api_document_but_linked_from_the_docs(self) -> None:
        app = create_app(Settings(env="test", database_url="postgresql://nobody@127.0.0.1:1/x"))
        document = app.openapi()
        assert "/" not in document["paths"]
        assert not any(path.startswith("/explorer") for path in document["paths"])
        assert "**[The explorer](/)**" in document["info"]["description"]


class TestExplorerAssets:
    @pytest.mark.parametrize(("name", "media_type"), sorted(ASSETS.items()))
    async def test_asset_type_and_policy(
        self, client: AsyncClient, name: str, media_type: str
    ) -> None:
        response = await client.get(f"/explorer/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"] == media_type
        _assert_explorer_headers(response.headers)
        assert response.content == (STATIC_DIR / name).read_bytes()

    async def test_every_shipped_file_is_tested(self) -> None:
        shipped = {path.name for path in STATIC_DIR.iterdir() if path.is_file()}
        assert shipped == {"index.html", *ASSETS}

    async def test_revalidates_with_the_etag(self, client: AsyncClient) -> None:
        first = await client.get("/explorer/app.css", headers={"accept-encoding": "gzip"})
        assert first.headers["content-encoding"] == "gzip"
        again = await client.get(
            "/explorer/app.css",
            headers={"accept-encoding": "gzip", "if-none-match": first.headers["etag"]},
        )
        assert again.status_code == 304
        assert again.content == b""

    async def test_unknown_asset_is_404_problem(self, client: AsyncClient) -> None:
        response = await client.get("/explorer/nothing.js")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"

    async def test_no_directory_listing(self, client: AsyncClient) -> None:
        response = await client.get("/explorer/")
        assert response.status_code == 404


class TestExplorerSources:
    """The page is its own files and the public API: nothing from elsewhere, no inline code."""

    def test_modules_import_only_shipped_files(self) -> None:
        for script in STATIC_DIR.glob("*.js"):
            for target in re.findall(r"^import .* from '([^']+)';$", script.read_text(), re.M):
                assert target.startswith("./"), (script.name, target)
                assert (STATIC_DIR / target[2:]).is_file(), (script.name, target)

    def test_no_remote_code_inline_code_or_inline_styles(self) -> None:
        page = (STATIC_DIR / "index.html").read_text()
        assert re.findall(r"(?:src|href)=\"(https?:)?//", page) == []
        assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []
        assert "<style" not in page and " style=" not in page and " on" + "click=" not in page
        for script in STATIC_DIR.glob("*.js"):
            text = script.read_text()
            assert "innerHTML" not in text and "eval(" not in text, script.name
            assert "setAttribute('style'" not in text, script.name

    def test_data_comes_from_the_public_api_only(self) -> None:
        calls = []
        for script in STATIC_DIR.glob("*.js"):
            calls += re.findall(r"\b(?:get|post|getAll|once)\(\s*[`'](/[^`']*)", script.read_text())
        assert len(calls) >= 10
        assert all(path.startswith("/v1/") for path in calls), calls

    def test_package_data_ships_the_files(self) -> None:
        pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
        patterns = pyproject["tool"]["setuptools"]["package-data"]["app"]
        for path in STATIC_DIR.iterdir():
            relative = path.relative_to(ROOT / "app").as_posix()
            assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative
