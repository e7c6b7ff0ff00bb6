"""docs/dataset.md's coverage section is the API's own answer on the bundled data.

`make docs` runs this file with UPDATE_DOCS=1 to rewrite it."""

from pathlib import Path

from httpx import AsyncClient

from app.coverage.doc import AS_OF, BEGIN, END, render
from tests.generated_docs import assert_section_current

PAGE = Path(__file__).resolve().parents[2] / "docs" / "dataset.md"


async def test_the_coverage_section_matches_the_api(client: AsyncClient) -> None:
    coverage = await client.get("/v1/coverage", params={"as_of": AS_OF.isoformat()})
    scores = await client.get(
        "/v1/indices/va_hub_competitiveness/scores",
        params={"as_of": AS_OF.isoformat(), "min_coverage": 0},
    )
    assert coverage.status_code == scores.status_code == 200
    features = (await client.get("/v1/features", params={"limit": 500})).json()["items"]
    known: dict[str, set[str]] = {}
    for feature in features:
        values = await client.get(
            f"/v1/features/{feature['key']}/values",
            params={"as_of": AS_OF.isoformat(), "limit": 500},
        )
        assert values.status_code == 200 and values.json()["next_cursor"] is None
        known[feature["key"]] = {v["jurisdiction_code"] for v in values.json()["items"]}
    text = render(coverage.json(), scores.json(), known)
    assert_section_current(PAGE, BEGIN, END, text, "the coverage section")
