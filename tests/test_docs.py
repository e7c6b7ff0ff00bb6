"""/docs and /redoc work offline: their scripts and styles come from this server."""

import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from httpx import AsyncClient

from app.core.config import Settings
from app.core.db import Database
from app.main import create_app

CHROMIUM = Path("/usr/bin/chromium")
PAGES = ["/docs", "/redoc"]


def _references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href|url)\s*[=:(]\s*['"]([^'"]+)['"]""", html)


class TestDocsPages:
    @pytest.mark.parametrize("page", PAGES)
    async def test_the_page_references_only_this_server(
        self, client: AsyncClient, page: str
    ) -> None:
        response = await client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        references = _references(response.text)
        assert references
        assert [r for r in references if not r.startswith("/")] == []
        assert "//" not in " ".join(references)
        assert "cdn" not in response.text.lower()

    async def test_swagger_ui_loads_its_assets_and_the_document(self, client: AsyncClient) -> None:
        html = (await client.get("/docs")).text
        assert set(_references(html)) == {
            "/docs/assets/swagger-ui.css",
            "/docs/assets/favicon.png",
            "/docs/assets/swagger-ui-bundle.js",
            "/openapi.json",
        }
        assert '"validatorUrl": null' in html

    async def test_redoc_loads_its_script_and_the_document(self, client: AsyncClient) -> None:
        html = (await client.get("/redoc")).text
        assert set(_references(html)) >= {"/docs/assets/redoc.standalone.js"}
        assert 'spec-url="/openapi.json"' in html
        assert "fonts.googleapis" not in html

    @pytest.mark.parametrize(
        ("asset", "media_type", "marker"),
        [
            ("swagger-ui-bundle.js", "text/javascript", b"SwaggerUIBundle"),
            ("swagger-ui.css", "text/css", b".swagger-ui"),
            ("redoc.standalone.js", "text/javascript", b"Redoc"),
        ],
    )
    async def test_assets_are_served(
        self, client: AsyncClient, asset: str, media_type: str, marker: bytes
    ) -> None:
        response = await client.get(f"/docs/assets/{asset}")
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media_type
        assert marker in response.content

    async def test_an_unknown_asset_is_404(self, client: AsyncClient) -> None:
        assert (await client.get("/docs/assets/nothing.js")).status_code == 404


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_docs() -> Iterator[str]:
    """The app on a real uvicorn; the docs pages need no database (the document is built
    from the routes; the placeholder engine never connects)."""
    settings = Settings(env="test")
    app = create_app(
        settings, database=Database.connect(settings, "postgresql://unused@127.0.0.1:9/unused")
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _rendered(url: str, tmp_path: Path) -> str:
    """The page's DOM after its scripts ran in headless Chromium, with every host but this
    one unresolvable (no network to the outside)."""
    result = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
class TestDocsInChromium:
    def test_swagger_ui_lists_the_operations(self, live_docs: str, tmp_path: Path) -> None:
        assert httpx.get(f"{live_docs}/docs").status_code == 200
        dom = _rendered(f"{live_docs}/docs", tmp_path)
        assert "SwaggerUIBundle is not defined" not in dom
        assert "opblock-summary-path" in dom
        for text in ("/v1/jurisdictions", "/v1/compare", "List jurisdictions", "Juriscope"):
            assert text in dom, text

    def test_redoc_lists_the_operations(self, live_docs: str, tmp_path: Path) -> None:
        dom = _rendered(f"{live_docs}/redoc", tmp_path)
        for text in ("List jurisdictions", "Compare jurisdictions", "Juriscope"):
            assert text in dom, text
