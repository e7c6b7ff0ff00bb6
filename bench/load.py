"""Load generators: wrk (or an httpx fallback) against a URL, and asyncpg against a query."""

import asyncio
import re
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg
import httpx

# One request's worth of database work: given a connection, read everything the endpoint reads.
Floor = Callable[[asyncpg.Connection], Awaitable[object]]

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


@dataclass
class LoadResult:
    """Throughput and latency of one load run; errors are failed or non-2xx requests."""

    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _ms(number: str, unit: str) -> float:
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> LoadResult:
    """The figures of `wrk --latency` output: requests/s, p50, p99, errors."""
    percentiles = {
        match[1]: _ms(match[2], match[3])
        for match in re.finditer(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    }
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if done is None or rps is None:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    notes = [line.strip() for line in output.splitlines() if "errors" in line or "Non-2xx" in line]
    return LoadResult(
        tool="wrk",
        requests=int(done[1]),
        seconds=_ms(done[2], done[3]) / 1000,
        rps=float(rps[1]),
        p50_ms=percentiles.get("50"),
        p99_ms=percentiles.get("99"),
        errors=errors + (int(non_2xx[1]) if non_2xx else 0),
        notes=notes,
    )


def run_wrk(
    url: str, *, duration: float, connections: int, headers: dict[str, str] | None = None
) -> LoadResult:
    """`wrk -t2 -cN -dDs --latency URL` (a 10 s request timeout instead of wrk's 2 s, so that a
    slow endpoint shows in p99 rather than vanishing into timeouts)."""
    command = [
        wrk_path() or "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        "--timeout",
        "10s",
        *(part for name, value in (headers or {}).items() for part in ("-H", f"{name}: {value}")),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return parse_wrk(done.stdout)


def percentile(sorted_ms: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_ms:
        return None
    return sorted_ms[min(len(sorted_ms) - 1, max(0, round(q * len(sorted_ms)) - 1))]


async def _drive(
    once: Callable[[], Awaitable[bool]], *, duration: float, concurrency: int
) -> tuple[list[float], int, float]:
    """Run `once` from `concurrency` tasks until the deadline; latencies (ms), errors, seconds."""
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    deadline = start + duration

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            if await once():
                latencies.append((time.perf_counter() - began) * 1000)
            else:
                errors += 1

    tasks = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    try:
        # Each request is bounded by its own timeout; this bounds the whole run as well.
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + 30)
    finally:
        for task in tasks:
            task.cancel()
    return sorted(latencies), errors, time.perf_counter() - start


def _result(tool: str, latencies: list[float], errors: int, seconds: float) -> LoadResult:
    return LoadResult(
        tool=tool,
        requests=len(latencies),
        seconds=seconds,
        rps=len(latencies) / seconds if seconds else 0.0,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        errors=errors,
    )


async def _http_load(
    url: str, *, duration: float, connections: int, headers: dict[str, str] | None = None
) -> LoadResult:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = headers or {"Accept-Encoding": "identity"}
    async with httpx.AsyncClient(limits=limits, timeout=10, headers=headers) as client:

        async def once() -> bool:
            try:
                response = await client.get(url)
            except httpx.HTTPError:
                return False
            return response.status_code == 200

        latencies, errors, seconds = await _drive(once, duration=duration, concurrency=connections)
    result = _result("httpx", latencies, errors, seconds)
    result.notes.append("wrk not found: measured with an asyncio httpx loop (client-bound)")
    return result


def run_http(
    url: str,
    *,
    duration: float,
    connections: int,
    headers: dict[str, str] | None = None,
    warmup: float = 0.0,
) -> LoadResult:
    """wrk when installed, else an asyncio httpx loop with the same concurrency; `warmup`
    seconds of the same load first, not measured (connections open, caches and the
    interpreter warm)."""
    if warmup > 0:
        _http(url, duration=warmup, connections=connections, headers=headers)
    return _http(url, duration=duration, connections=connections, headers=headers)


def _http(
    url: str, *, duration: float, connections: int, headers: dict[str, str] | None
) -> LoadResult:
    if wrk_path():
        return run_wrk(url, duration=duration, connections=connections, headers=headers)
    return asyncio.run(_http_load(url, duration=duration, connections=connections, headers=headers))


async def _sql_load(dsn: str, floor: Floor, *, duration: float, connections: int) -> LoadResult:
    pool = await asyncpg.create_pool(
        dsn, min_size=connections, max_size=connections, command_timeout=10, timeout=10
    )
    try:

        async def once() -> bool:
            try:
                async with pool.acquire(timeout=10) as connection:
                    await floor(connection)
            except (asyncpg.PostgresError, TimeoutError, OSError):
                return False
            return True

        # Warm up: every connection prepares the statements once before the clock starts.
        await asyncio.wait_for(asyncio.gather(*(once() for _ in range(connections))), 60)
        latencies, errors, seconds = await _drive(once, duration=duration, concurrency=connections)
    finally:
        await asyncio.wait_for(pool.close(), 30)
    return _result("asyncpg", latencies, errors, seconds)


def run_sql(dsn: str, floor: Floor, *, duration: float, connections: int) -> LoadResult:
    """`connections` tasks on a pool of as many connections, each running `floor` in a loop."""
    return asyncio.run(_sql_load(dsn, floor, duration=duration, connections=connections))
