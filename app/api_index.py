"""GET /v1: where a client starts. What the API is, how fresh its data is, where to go."""

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from app.changes import service as changes_service
from app.core.errors import error_responses
from app.http.dependencies import JSON_ONLY, ReadSessionDep

router = APIRouter(tags=["discovery"])


class ApiIndexLinks(BaseModel):
    """Where to go next: paths from the root of this server."""

    jurisdictions: str = Field(
        description="Jurisdiction profiles; from each, its features, metrics and events."
    )
    features: str = Field(description="The regulatory taxonomy and its values.")
    metrics: str = Field(description="Market metrics and their observations (panel data).")
    sources: str = Field(description="Where every value comes from.")
    events: str = Field(description="The regulatory timeline.")
    changes: str = Field(description="The change feed: every write, in order.")
    indices: str = Field(description="Composite indices and their rankings.")
    compare: str = Field(description="Jurisdictions side by side (`?jurisdictions=HK,SG`).")
    scenarios: str = Field(description="What-if evaluation of an index (POST).")
    keys: str = Field(description="API keys (admin key).")
    openapi: str = Field(description="The OpenAPI document of this API.")
    docs: str = Field(description="Interactive documentation.")


class ApiIndex(BaseModel):
    """The API's entry point: its name and version, the data version, and links."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Juriscope",
                    "version": "1.0.0",
                    "data_version": 1024,
                    "data_changed_at": "2026-11-25T07:00:00Z",
                    "links": {
                        "jurisdictions": "/v1/jurisdictions",
                        "features": "/v1/features",
                        "metrics": "/v1/metrics",
                        "sources": "/v1/sources",
                        "events": "/v1/events",
                        "changes": "/v1/changes",
                        "indices": "/v1/indices",
                        "compare": "/v1/compare",
                        "scenarios": "/v1/scenarios/evaluate",
                        "keys": "/v1/keys",
                        "openapi": "/openapi.json",
                        "docs": "/docs",
                    },
                }
            ]
        }
    )

    name: str
    version: str = Field(description="The version of the API.")
    data_version: int = Field(
        description="Grows with every write: a new value means some data changed."
    )
    data_changed_at: datetime = Field(description="When the data version last moved.")
    links: ApiIndexLinks


# Root-relative, so that one cached body serves every host name the API is reached by.
LINKS = ApiIndexLinks(
    jurisdictions="/v1/jurisdictions",
    features="/v1/features",
    metrics="/v1/metrics",
    sources="/v1/sources",
    events="/v1/events",
    changes="/v1/changes",
    indices="/v1/indices",
    compare="/v1/compare",
    scenarios="/v1/scenarios/evaluate",
    keys="/v1/keys",
    openapi="/openapi.json",
    docs="/docs",
)


@router.get(
    "/v1",
    operation_id="getApiIndex",
    dependencies=[JSON_ONLY],
    summary="The API index",
    response_model=ApiIndex,
    responses=error_responses(406, 422, 503),
)
async def get_api_index(request: Request, session: ReadSessionDep) -> ApiIndex:
    """Start here: the API's name and version, the data version with the time of the last
    change (a client that sees the same `data_version` again can keep what it has), and the
    paths of the collections, the OpenAPI document and the documentation. Public: no key is
    needed, even where reads need one."""
    data = await changes_service.get_data_version(session)
    return ApiIndex(
        name=request.app.title,
        version=request.app.version,
        data_version=data.version,
        data_changed_at=data.changed_at,
        links=LINKS,
    )
