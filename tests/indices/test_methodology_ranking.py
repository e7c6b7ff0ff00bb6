"""docs/methodology.md's ranking section is the API's own answer on the bundled data.

`make docs` runs this file with UPDATE_DOCS=1 to rewrite it."""

import os
from pathlib import Path

from httpx import AsyncClient

from app.indices.doc import AS_OF, CLOSED_REGIME, OPEN_REGIME, render, replace

PAGE = Path(__file__).resolve().parents[2] / "docs" / "methodology.md"


async def test_the_ranking_section_matches_the_api(client: AsyncClient) -> None:
    scores = await client.get(
        "/v1/indices/va_hub_competitiveness/scores", params={"as_of": AS_OF.isoformat()}
    )
    request = {"index": "va_hub_competitiveness", "jurisdiction": "HK", "as_of": str(AS_OF)}
    with_it = await client.post(
        "/v1/scenarios/evaluate", json={**request, "overrides": OPEN_REGIME}
    )
    without = await client.post(
        "/v1/scenarios/evaluate", json={**request, "overrides": CLOSED_REGIME}
    )
    assert scores.status_code == with_it.status_code == without.status_code == 200
    text = render(scores.json(), with_it.json(), without.json())
    page = PAGE.read_text(encoding="utf-8")
    if os.environ.get("UPDATE_DOCS") == "1":
        PAGE.write_text(replace(page, text), encoding="utf-8")
        page = PAGE.read_text(encoding="utf-8")
    assert replace(page, text) == page, "the ranking section is stale: run `make docs`"
