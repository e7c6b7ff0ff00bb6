from fastapi import APIRouter

from app.deps import JSON_ONLY, ReadSessionDep
from app.errors import error_responses
from app.http import today
from app.scenarios import service
from app.scenarios.schemas import ScenarioRequest, ScenarioResult

router = APIRouter(prefix="/v1/scenarios", tags=["scenarios"])


@router.post(
    "/evaluate",
    operation_id="evaluateScenario",
    summary="What if a jurisdiction changed?",
    response_model=ScenarioResult,
    dependencies=[JSON_ONLY],
    responses=error_responses(400, 404, 406, 413, 422, 429, 503),
)
async def evaluate_scenario(request: ScenarioRequest, session: ReadSessionDep) -> ScenarioResult:
    """Recompute an index with some of one jurisdiction's values replaced ("what if Hong Kong
    adopted a regulatory sandbox?") over the same compared set, and return its score and rank
    before and after, the deltas and the components that changed. Overrides are validated
    like writes; nothing is stored. Public, read-only."""
    return await service.evaluate(session, request, today=today())
