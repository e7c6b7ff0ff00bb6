"""docs/dataset.md's coverage section is the API's own answer on the bundled data.

`make docs` runs this file with UPDATE_DOCS=1 to rewrite it."""

import os
from pathlib import Path

from httpx import AsyncClient

from app.coverage.doc import AS_OF, render, replace

PAGE = Path(__file__).resolve().parents[2] / "docs" / "dataset.md"


async def test_the_coverage_section_matches_the_api(client: AsyncClient) -> None:
    coverage = await client.get("/v1/coverage", params={"as_of": AS_OF.isoformat()})
    scores = await client.get(
        "/v1/indices/va_hub_competitiveness/scores",
        params={"as_of": AS_OF.isoformat(), "min_coverage": 0},
    )
    assert coverage.status_code == scores.status_code == 200
    text = render(coverage.json(), scores.json())
    page = PAGE.read_text(encoding="utf-8")
    if os.environ.get("UPDATE_DOCS") == "1":
        PAGE.write_text(replace(page, text), encoding="utf-8")
        page = PAGE.read_text(encoding="utf-8")
    assert replace(page, text) == page, "the coverage section is stale: run `make docs`"
