"""The benchmark's results: rows, the Markdown table, results.md and results.json."""

import asyncio
import json
import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.generate import Summary, plain_dsn
from bench.load import LoadResult, wrk_path
from bench.servers import nginx_path


@dataclass
class Row:
    """One endpoint against one server configuration, beside its two references."""

    name: str
    path: str
    cache: str = "as shipped"
    status: int | None = None
    bytes: int | None = None
    content_type: str | None = None
    skipped: str | None = None
    api: LoadResult | None = None
    nginx: LoadResult | None = None
    sql: LoadResult | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.name if self.cache == "as shipped" else f"{self.name} ({self.cache})"

    def ratio(self, other: LoadResult | None) -> float | None:
        if self.api is None or other is None or not other.rps:
            return None
        return self.api.rps / other.rps

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.name,
            "server": self.cache,
            "path": self.path,
            "status": self.status,
            "bytes": self.bytes,
            "content_type": self.content_type,
            "skipped": self.skipped,
            "api": self.api.as_dict() if self.api else None,
            "nginx": self.nginx.as_dict() if self.nginx else None,
            "sql": self.sql.as_dict() if self.sql else None,
            "api_nginx_ratio": self.ratio(self.nginx),
            "api_sql_ratio": self.ratio(self.sql),
            "notes": self.notes,
        }


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def table(rows: list[Row]) -> list[str]:
    """The results as Markdown table lines."""
    lines = [
        "| endpoint | bytes | API req/s | API p50 ms | API p99 ms | nginx req/s | SQL req/s "
        "| API/nginx | API/SQL |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        if row.api is None:
            api = [row.skipped or "not measured", "", ""]
        else:
            api = [_fmt(row.api.rps), _fmt(row.api.p50_ms, 2), _fmt(row.api.p99_ms, 2)]
        cells = [
            row.label,
            f"{row.bytes:,}" if row.bytes is not None else "—",
            *api,
            _fmt(row.nginx.rps) if row.nginx else "—",
            _fmt(row.sql.rps) if row.sql else "—",
            _ratio(row.ratio(row.nginx)),
            _ratio(row.ratio(row.sql)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def details(rows: list[Row]) -> list[str]:
    """Every load run with its tool, request count, percentiles and errors."""
    lines = [
        "| endpoint | measured | requests | req/s | p50 ms | p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    seen: set[int] = set()
    for row in rows:
        for label, result in (("API", row.api), ("nginx", row.nginx), ("SQL", row.sql)):
            if result is None or id(result) in seen:
                continue
            seen.add(id(result))
            name = row.label if label == "API" else row.name
            lines.append(
                f"| {name} | {label} ({result.tool}) | {result.requests:,} "
                f"| {_fmt(result.rps)} | {_fmt(result.p50_ms, 2)} | {_fmt(result.p99_ms, 2)} "
                f"| {result.errors} |"
            )
    return lines


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0].split(" Copyright")[0] if lines else "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


async def _postgres_version(url: str) -> str:
    connection = await asyncpg.connect(plain_dsn(url), timeout=10)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def environment(
    url: str,
    *,
    duration: float,
    connections: int,
    summary: Summary,
    load: tuple[float, float, float],
) -> dict[str, Any]:
    """Where and how the figures were measured."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgres": asyncio.run(_postgres_version(url)),
        "wrk": _version(["wrk", "--version"]) if wrk_path() else "no wrk (httpx loop)",
        "nginx": _version([nginx_path() or "nginx", "-v"]),
        "duration_s": duration,
        "connections": connections,
        "server": "juriscope serve --workers 2 (uvicorn)",
        "load_average_before": [round(x, 2) for x in load],
        "dataset": summary.counts,
        "database_size": summary.size,
    }


def write_results(
    rows: list[Row], env: dict[str, Any], out_dir: Path, *, writes: list[str] | None = None
) -> None:
    """results.json (everything) and results.md (the table, the details, the requests)."""
    (out_dir / "results.json").write_text(
        json.dumps({"environment": env, "results": [r.as_dict() for r in rows]}, indent=2) + "\n"
    )
    counts = env["dataset"]
    notes = [f"- {r.label}: {'; '.join(r.notes)}" for r in rows if r.notes]
    requests = {r.name: r.path for r in rows}
    md = [
        "# Juriscope benchmark",
        "",
        f"{env['date']} on {env['cpus']} CPUs ({env['cpu']}), PostgreSQL {env['postgres']}, "
        f"{env['wrk']}, {env['nginx']}; {env['server']}; {env['connections']} connections, "
        f"{env['duration_s']:g} s per run. Load average before the runs: "
        f"{', '.join(map(str, env['load_average_before']))}.",
        "",
        f"Dataset: {counts['jurisdiction']:,} jurisdictions, {counts['feature']:,} features, "
        f"{counts['feature_value']:,} feature values, {counts['metric']:,} metrics, "
        f"{counts['observation']:,} observations, {counts['source']:,} sources, "
        f"{counts['event']:,} events ({env['database_size']}).",
        "",
        *table(rows),
        "",
        "API/nginx: the share of the static-file ceiling the API reaches. API/SQL: the API's "
        "throughput over the raw SQL floor's (see bench/README.md). Rows marked `cache off` "
        "ran against a second server with JURISCOPE_RESPONSE_CACHE_ENTRIES=0, `gzip` rows "
        "sent `Accept-Encoding: gzip` (nginx then serves the API's gzip bytes), and the "
        "`instrumentation off` row ran against a third server with "
        "JURISCOPE_INSTRUMENTATION=false (no request ids, metrics or request log).",
        "",
        *(["## Writes", "", *writes, ""] if writes else []),
        "## Details",
        "",
        *details(rows),
        "",
        "## Requests",
        "",
        *(f"- {name}: `GET {path}`" for name, path in requests.items()),
        "",
        *(["## Notes", "", *notes, ""] if notes else []),
    ]
    (out_dir / "results.md").write_text("\n".join(md))
