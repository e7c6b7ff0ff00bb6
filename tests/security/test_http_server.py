"""The HTTP server `serve` runs, attacked over real sockets: request heads are bounded in
size and time, its own errors are problem+json, and forwarded headers are trusted only from
configured proxies (issue 10 findings 4, 7 and 10)."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn

from app.core.config import get_settings
from app.core.db import Database
from app.main import create_app
from tests.security.conftest import World


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def running(world: World, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    @asynccontextmanager
    async def _running(**overrides: Any) -> AsyncIterator[int]:
        environment = {
            "JURISCOPE_ENV": "test",
            "DATABASE_URL": world.url,
            "JURISCOPE_RATE_LIMIT": "5/minute",
            "JURISCOPE_HEADER_TIMEOUT_S": "1",
            "JURISCOPE_MAX_HEADER_BYTES": "8192",
            **overrides,
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        settings = get_settings()
        database = Database.connect(settings, world.url)
        port = _free_port()
        config = uvicorn.Config(
            create_app(settings, database=database),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            http="app.http.server:GuardedHttpToolsProtocol",
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=settings.trusted_proxies or [],
            lifespan="off",
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        for _ in range(250):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started, "the server did not start within 5 s"
        try:
            yield port
        finally:
            server.should_exit = True
            await task
            await database.dispose()
            get_settings.cache_clear()

    return _running


async def _exchange(port: int, data: bytes, *, wait: float = 5.0) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()


def _status_and_body(raw: bytes) -> tuple[int, dict[str, Any], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


async def test_an_endless_header_is_cut_off_with_431(running: Callable[..., Any]) -> None:
    async with running() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Junk: ")
        for _ in range(64):
            writer.write(b"a" * 1024)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        status, headers, body = _status_and_body(raw)
        assert status == 431
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body)["status"] == 431


async def test_a_huge_query_string_is_414(running: Callable[..., Any]) -> None:
    async with running() as port:
        raw = await _exchange(port, b"GET /v1/sources?q=" + b"a" * 200_000 + b" HTTP/1.1\r\n\r\n")
        status, headers, _ = _status_and_body(raw)
        assert status == 414
        assert headers["content-type"] == "application/problem+json"


async def test_a_head_that_never_finishes_times_out(running: Callable[..., Any]) -> None:
    async with running() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert _status_and_body(raw)[0] == 408


async def test_malformed_http_is_a_problem(running: Callable[..., Any]) -> None:
    async with running() as port:
        raw = await _exchange(
            port,
            b"POST /v1/imports HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Content-Length: 7\r\n\r\nhello",
        )
        status, headers, body = _status_and_body(raw)
        assert status == 400
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body)["status"] == 400


async def test_a_keep_alive_connection_serves_several_requests(
    running: Callable[..., Any],
) -> None:
    async with running() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(3):
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200")
            length = int(
                next(
                    line.split(b":")[1]
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
            )
            await reader.readexactly(length)
        writer.close()


async def _rate_limited_after(port: int, forwarded: bool) -> int:
    for n in range(20):
        header = f"X-Forwarded-For: 10.0.0.{n}\r\n".encode() if forwarded else b""
        raw = await _exchange(
            port, b"GET /v1/sources HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + header + b"\r\n"
        )
        if _status_and_body(raw)[0] == 429:
            return n
    return 20


async def test_forwarded_for_cannot_buy_a_fresh_budget(running: Callable[..., Any]) -> None:
    async with running() as port:
        assert await _rate_limited_after(port, forwarded=True) == 5


async def test_a_configured_proxy_is_trusted(running: Callable[..., Any]) -> None:
    async with running(JURISCOPE_TRUSTED_PROXIES="127.0.0.1") as port:
        assert await _rate_limited_after(port, forwarded=True) == 20
