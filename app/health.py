"""Liveness and readiness probes."""

import time
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.cli.migrate import current_revision, head_revision
from app.core.error_handlers import is_database_down, problem_response
from app.core.errors import error_responses

router = APIRouter(tags=["health"])

READINESS_TTL_S = 1.0


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    revision: str


@router.get("/healthz", operation_id="getHealth", summary="Liveness", response_model=Health)
async def healthz() -> Health:
    """The process is up. Does not touch the database."""
    return Health()


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="Readiness",
    response_model=Readiness,
    responses=error_responses(503),
)
async def readyz(request: Request) -> Readiness | JSONResponse:
    """The database answers and its schema is at the latest migration; 503 otherwise. A
    "ready" answer is reused for one second, so a flood of probes costs the database at most
    one query per second and process; a 503 is never reused, so recovery shows at once."""
    state = request.app.state
    now = time.monotonic()
    cached: tuple[float, Readiness | JSONResponse] | None = getattr(state, "readiness", None)
    if cached is not None and now - cached[0] < READINESS_TTL_S:
        return cached[1]
    answer = await _readiness(request)
    state.readiness = (now, answer) if isinstance(answer, Readiness) else None
    return answer


async def _readiness(request: Request) -> Readiness | JSONResponse:
    state = request.app.state
    if getattr(state, "migration_head", None) is None:
        # The scripts do not change while the process runs: read them once.
        state.migration_head = head_revision()
    head = state.migration_head
    try:
        async with request.app.state.db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            revision = await connection.run_sync(current_revision)
    except Exception as error:
        if not is_database_down(error):
            raise
        return problem_response(
            request,
            status=503,
            title="Service Unavailable",
            type_="/problems/unavailable",
            detail="The database is unreachable.",
            headers={"Retry-After": "5"},
        )
    if revision != head:
        return problem_response(
            request,
            status=503,
            title="Service Unavailable",
            type_="/problems/unavailable",
            detail=f"The database schema is at {revision!r}, not the latest {head!r}; "
            "run `juriscope db upgrade`.",
        )
    return Readiness(revision=revision)
