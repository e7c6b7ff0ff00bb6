"""Writes to jurisdictions (scope `write`): create or replace, patch, delete."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from sqlalchemy import delete, func, select
from sqlalchemy.orm import aliased

from app.changes import service as changes_service
from app.core.errors import ConflictError, PermissionDenied, error_responses
from app.dataset.plan import Scope, entity_key
from app.dataset.read import read_database
from app.dataset.schemas import JurisdictionRecord
from app.http.auth import WriteKey
from app.http.dependencies import SessionDep
from app.http.writes import check_if_match, fields_of, put_resource, set_etag
from app.jurisdictions import service
from app.jurisdictions.models import Jurisdiction
from app.jurisdictions.router import CodePath
from app.jurisdictions.schemas import JurisdictionPatch, JurisdictionProfile, JurisdictionWrite
from app.metrics.models import Observation

router = APIRouter(prefix="/v1/jurisdictions", tags=["jurisdictions"])

WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503)


async def _record(session: Any, code: str) -> JurisdictionRecord | None:
    stored = await read_database(session, ["jurisdictions"], scope=Scope(codes={code}))
    return next(iter(stored.jurisdictions), None)


@router.put(
    "/{code}",
    operation_id="putJurisdiction",
    summary="Create or replace a jurisdiction",
    response_model=JurisdictionProfile,
    responses={201: {"model": JurisdictionProfile, "description": "Created."}, **WRITE_ERRORS},
)
async def put_jurisdiction(
    code: CodePath,
    body: Annotated[JurisdictionWrite, Body()],  # type: ignore[valid-type]
    request: Request,
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> JurisdictionProfile:
    """Create the jurisdiction, or replace all its fields and regulators. Honours If-Match."""
    return await put_resource(
        request,
        response,
        load=lambda: service.get_jurisdiction_profile(session, code),
        missing=service.JurisdictionNotFound,
        write=lambda: service.put_jurisdiction(
            session, code=code, data=fields_of(body), actor=caller.id
        ),
        location=f"/v1/jurisdictions/{code}",
    )


@router.patch(
    "/{code}",
    operation_id="patchJurisdiction",
    summary="Change some fields of a jurisdiction",
    response_model=JurisdictionProfile,
    responses=WRITE_ERRORS,
)
async def patch_jurisdiction(
    code: CodePath,
    body: Annotated[JurisdictionPatch, Body()],  # type: ignore[valid-type]
    request: Request,
    response: Response,
    session: SessionDep,
    caller: WriteKey,
) -> JurisdictionProfile:
    """Change the fields sent; the others keep their values. Honours If-Match."""
    current = await service.get_jurisdiction_profile(session, code)
    check_if_match(request, current)
    profile = await service.patch_jurisdiction(
        session,
        code=code,
        changes=fields_of(body, only_sent=True),
        actor=caller.id,
        current=current,
    )
    set_etag(response, profile)
    return profile


@router.delete(
    "/{code}",
    operation_id="deleteJurisdiction",
    summary="Delete a jurisdiction",
    status_code=204,
    responses=WRITE_ERRORS,
)
async def delete_jurisdiction(
    code: CodePath,
    request: Request,
    session: SessionDep,
    caller: WriteKey,
    cascade: Annotated[
        bool,
        Query(
            description="Also delete the jurisdiction's feature values, observations, "
            "events and saved scenarios (needs an admin key). Without it, a jurisdiction "
            "that has data is refused with 409."
        ),
    ] = False,
) -> Response:
    """Delete a jurisdiction and its regulators. When it has data of its own (feature values,
    observations, events, saved scenarios), `cascade=true` and an admin key are needed, and
    the change feed then records every removed row (feature-value histories, observations,
    events, scenarios) before the jurisdiction itself. Refused with 409 while other
    jurisdictions depend on it: subdivisions or zones within it, or observations naming it
    as counterpart. Honours If-Match."""
    current = await service.get_jurisdiction_profile(session, code)
    check_if_match(request, current)
    jurisdiction_id = await service.jurisdiction_id_for(session, code)
    child = aliased(Jurisdiction)
    children = list(
        await session.scalars(
            select(child.code).where(child.parent_id == jurisdiction_id).order_by(child.code)
        )
    )
    counterparts = await session.scalar(
        select(func.count())
        .select_from(Observation)
        .where(Observation.counterpart_id == jurisdiction_id)
    )
    blockers = []
    if children:
        blockers.append(f"it contains {', '.join(children)} (delete or re-parent them first)")
    if counterparts:
        blockers.append(
            f"{counterparts} observation(s) of other jurisdictions name it as counterpart"
        )
    if blockers:
        raise ConflictError(f"Cannot delete {code}: {'; '.join(blockers)}.")
    owned = await _owned_data(session, code)
    if any(owned.values()) and not cascade:
        counts = ", ".join(f"{len(rows)} {name.replace('_', ' ')}" for name, rows in owned.items())
        raise ConflictError(
            f"{code} has data of its own ({counts}); deleting it needs ?cascade=true and an "
            "admin key, and removes all of it."
        )
    if any(owned.values()) and "admin" not in caller.scopes:
        raise PermissionDenied(
            f"Deleting {code} with its data (cascade) needs an admin key; {caller.id} has "
            f"{', '.join(caller.scopes)}."
        )
    before = await _record(session, code)
    await session.execute(delete(Jurisdiction).where(Jurisdiction.id == jurisdiction_id))
    for change in _removal_changes(code, owned):
        await changes_service.record_change(session, actor=caller.id, action="delete", **change)
    await changes_service.record_change(
        session,
        actor=caller.id,
        entity="jurisdiction",
        entity_key=code,
        action="delete",
        before=before.model_dump(mode="json") if before else None,
        after=None,
    )
    return Response(status_code=204)


async def _owned_data(session: Any, code: str) -> dict[str, list[Any]]:
    """The jurisdiction's own feature values, observations, events and saved scenarios, as
    records."""
    stored = await read_database(
        session,
        ["feature_values", "observations", "events", "scenarios"],
        scope=Scope(everything_of={code}),
    )
    return {
        "feature_values": stored.feature_values,
        "observations": stored.observations,
        "events": stored.events,
        "scenarios": stored.scenarios,
    }


def _removal_changes(code: str, owned: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """One change record per removed row, keyed as the feed keys their creation: a
    feature-value history per feature, each observation, each event."""
    histories: dict[str, list[Any]] = {}
    for value in owned["feature_values"]:
        histories.setdefault(value.feature_key, []).append(value.model_dump(mode="json"))
    records = [
        {
            "entity": "feature_value",
            "entity_key": f"{code}:{key}",
            "before": history,
            "after": None,
        }
        for key, history in sorted(histories.items())
    ]
    records += [
        {
            "entity": "observation",
            "entity_key": entity_key("observations", observation),
            "before": observation.model_dump(mode="json"),
            "after": None,
        }
        for observation in owned["observations"]
    ]
    records += [
        {
            "entity": "event",
            "entity_key": event.id,
            "before": event.model_dump(mode="json"),
            "after": None,
        }
        for event in owned["events"]
    ]
    records += [
        {
            "entity": "scenario",
            "entity_key": scenario.id,
            "before": scenario.model_dump(mode="json"),
            "after": None,
        }
        for scenario in owned["scenarios"]
    ]
    return records
