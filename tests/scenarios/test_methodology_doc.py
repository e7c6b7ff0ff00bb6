"""docs/methodology.md's table of the article's recommendations is the API's own answer.

`make docs` runs this file with UPDATE_DOCS=1 to rewrite the table."""

from pathlib import Path

from httpx import AsyncClient

from app.scenarios.doc import AS_OF, BEGIN, END, PEERS, render_table
from app.scenarios.schemas import ScenarioEvaluation
from tests.generated_docs import assert_section_current

PAGE = Path(__file__).resolve().parents[2] / "docs" / "methodology.md"


async def bundled_evaluations(client: AsyncClient) -> list[ScenarioEvaluation]:
    """Every bundled HK scenario on va_hub_competitiveness, evaluated through the API."""
    listing = await client.get(
        "/v1/scenarios", params={"jurisdiction": "HK", "index": "va_hub_competitiveness"}
    )
    assert listing.status_code == 200, listing.text
    evaluations = []
    for scenario in listing.json()["items"]:
        response = await client.get(
            f"/v1/scenarios/{scenario['id']}/evaluation",
            params={"as_of": AS_OF.isoformat(), "peers": ",".join(PEERS)},
        )
        assert response.status_code == 200, response.text
        evaluations.append(ScenarioEvaluation.model_validate(response.json()))
    # The single recommendations in the article's order, then all five.
    order = [
        "hk-3d-token-classification",
        "hk-dual-sandboxes",
        "hk-compliance-technology",
        "hk-tax-and-talent",
        "hk-greater-bay-area-links",
        "hk-all-five-recommendations",
    ]
    return sorted(evaluations, key=lambda e: (order + [e.id]).index(e.id))


async def test_the_methodology_table_matches_the_api(client: AsyncClient) -> None:
    table = render_table(await bundled_evaluations(client))
    assert_section_current(PAGE, BEGIN, END, table, "the table")
