"""Log capture and metric reading for the observability tests."""

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from httpx import AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from app.observability.logs import RequestIdFilter, json_formatter


class CapturedLog:
    """Every record of the test, as the JSON lines `JURISCOPE_LOG_FORMAT=json` writes."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines()]

    def requests(self, request_id: str) -> list[dict[str, Any]]:
        return [
            event
            for event in self.events()
            if event.get("event") == "request" and event["request_id"] == request_id
        ]


@pytest.fixture
def captured_log() -> Iterator[CapturedLog]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield CapturedLog(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_samples(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(client: AsyncClient, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return parse_samples(response.text)


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples) -> Callable[..., float]:
    def change(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    return change
