"""Liveness and readiness probes."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.errors import error_responses, is_database_down, problem_response
from app.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


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
    """The database answers and its schema is at the latest migration; 503 otherwise."""
    head = head_revision()
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
