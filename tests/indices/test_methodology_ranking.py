"""docs/methodology.md's ranking section is the API's own answer on the bundled data.

`make docs` runs this file with UPDATE_DOCS=1 to rewrite it."""

from pathlib import Path

from httpx import AsyncClient

from app.indices.doc import AS_OF, BEGIN, CLOSED_REGIME, END, OPEN_REGIME, render
from tests.generated_docs import assert_section_current

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
    assert_section_current(PAGE, BEGIN, END, text, "the ranking section")
