"""`juriscope serve --workers 2`: one /metrics for both workers, JSON request events."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.observability.conftest import parse_samples, sample
from tests.test_cli import _env, _free_port, _wait_ready

pytestmark = pytest.mark.slow


def test_two_workers_one_metrics_endpoint_and_json_events(tmp_path: Path) -> None:
    port = _free_port()
    env = _env(tmp_path) | {
        "JURISCOPE_LOG_FORMAT": "json",
        "JURISCOPE_METRICS_DIR": str(tmp_path / "metrics"),
    }
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_1.db").write_bytes(b"stale from an earlier run")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(port, process)
        _wait_both_workers(base)
        for n in range(20):  # a new connection each: the kernel spreads them over workers
            response = httpx.get(f"{base}/v1/jurisdictions/HK", headers={"X-Request-ID": f"r{n}"})
            assert response.status_code == 200
            assert response.headers["x-request-id"] == f"r{n}"
        missing = httpx.get(f"{base}/v1/jurisdictions/XX", headers={"X-Request-ID": "gone"})
        assert missing.json()["request_id"] == "gone"
        scrapes = [parse_samples(httpx.get(f"{base}/metrics").text) for _ in range(4)]
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    labels = {"method": "GET", "route": "/v1/jurisdictions/{code}"}
    for samples in scrapes:  # whichever worker answered, the sum of both
        assert sample(samples, "juriscope_http_requests_total", **labels, status="200") == 20
        assert sample(samples, "juriscope_http_requests_total", **labels, status="404") == 1
        assert sample(samples, "juriscope_db_pool_size", pool="primary") == 10  # 5 x 2
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    requests = [e for e in events if e.get("event") == "request" and e["path"] != "/readyz"]
    served = [e for e in requests if e["route"] == "/v1/jurisdictions/{code}"]
    assert sorted(e["request_id"] for e in served) == sorted(
        [f"r{n}" for n in range(20)] + ["gone"]
    )
    assert len({e["pid"] for e in served}) == 2, "both workers served"
    assert not [line for line in stderr.splitlines() if '" 200' in line]  # no uvicorn access log
    assert not (tmp_path / "metrics" / "counter_1.db").exists()


def _wait_both_workers(base: str, timeout: float = 60) -> None:
    """/readyz answers as soon as one worker is up; wait until the second has started too
    (each sets its pool gauge at startup), or the requests may all reach the first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        samples = parse_samples(httpx.get(f"{base}/metrics").text)
        if sample(samples, "juriscope_db_pool_size", pool="primary") == 10:
            return
        time.sleep(0.2)
    raise AssertionError("the second worker did not start")
