"""What every write shares: building records with the dataset rules, applying them through
the loader (one set of rules, one change record per entity), and If-Match."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ConflictError, PreconditionFailed, ValidationFailed
from app.dataset import loader
from app.dataset.io import DatasetInvalid, Issue
from app.dataset.schemas import Dataset, Record
from app.http.compression import identity_etag
from app.http.etags import resource_etag

R = TypeVar("R", bound=Record)


def build_record(model: type[R], data: dict[str, Any], *, at: tuple[str | int, ...] = ()) -> R:
    """`model` from request data; a 422 whose errors point into the body (under `at`)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        issues = [
            {
                "loc": ["body", *at, *[p for p in e["loc"] if p != "__root__"]],
                "msg": e["msg"],
                "type": e["type"],
            }
            for e in error.errors()
        ]
        raise ValidationFailed(
            "; ".join(f"{'.'.join(map(str, i['loc']))}: {i['msg']}" for i in issues),
            errors=issues,
        ) from None


def _issue_error(issue: Issue, batch: str | None) -> dict[str, Any]:
    loc: list[str | int] = ["body"]
    if batch is not None and issue.record is not None:
        loc += [batch, issue.record]
    if issue.field:
        loc += [int(p) if p.isdigit() else p for p in issue.field.split(".")]
    return {"loc": loc, "msg": issue.message, "type": "invalid"}


async def apply(
    session: AsyncSession,
    actor: str,
    *,
    batch: str | None = None,
    **entities: list[Any],
) -> loader.ImportReport:
    """Upsert records through the loader; 409 for conflicts with stored data, 422 otherwise.
    For a batch body, `batch` names its list so that errors point at the record in it."""
    try:
        return await loader.apply_dataset(session, Dataset(**entities), actor=actor)
    except DatasetInvalid as error:
        detail = "; ".join(
            f"{issue.key or issue.file}: {issue.field + ': ' if issue.field else ''}{issue.message}"
            for issue in error.issues
        )
        errors = [_issue_error(issue, batch) for issue in error.issues]
        # Classified where raised: a conflict with stored data is a 409, the rest a 422.
        if any(issue.conflict for issue in error.issues):
            raise ConflictError(detail, errors=errors) from None
        raise ValidationFailed(detail, errors=errors) from None


def check_if_match(
    request: Request, current: BaseModel | None, *, exists: bool | None = None
) -> None:
    """RFC 9110 preconditions of a write, against the current representation (None when the
    resource does not exist): `If-Match` by strong comparison (a weak tag never matches) and
    `If-None-Match: *` (create only; `exists` overrides "current is not None"). 412 when one
    fails."""
    wanted = request.headers.get("if-match")
    if wanted is not None:
        if current is None:
            raise PreconditionFailed("If-Match was given but the resource does not exist.")
        if wanted.strip() != "*":
            etag = resource_etag(current)
            # Strong comparison: a weak tag never matches; the gzip spelling of the current
            # tag is the same representation's.
            if etag not in [identity_etag(tag) for tag in wanted.split(",")]:
                raise PreconditionFailed(
                    f"The resource has changed (its ETag is {etag}); GET it again and retry. "
                    "If-Match compares strong tags: a W/ tag never matches."
                )
    exists = current is not None if exists is None else exists
    if request.headers.get("if-none-match", "").strip() == "*" and exists:
        raise PreconditionFailed(
            "If-None-Match: * asks to create only, and the resource already exists."
        )


def set_etag(response: Any, model: BaseModel) -> None:
    response.headers["ETag"] = resource_etag(model)


def fields_of(body: Any, *, only_sent: bool = False) -> dict[str, Any]:
    """The fields of a request body (only those the client sent, for PATCH)."""
    data: dict[str, Any] = body.model_dump(exclude_unset=only_sent)
    return data


M = TypeVar("M", bound=BaseModel)


async def put_resource(
    request: Request,
    response: Any,
    session: Any,
    actor: str,
    *,
    entity: str,
    record: type[Record],
    data: dict[str, Any],
    load: Callable[[], Awaitable[M]],
    missing: type[Exception],
    location: str,
    check: Callable[[Any], Awaitable[None]] | None = None,
) -> M:
    """Create or replace one resource: If-Match against its current representation, the
    record built (and given to `check`, for rules of the domain's own) and stored through
    the loader, then 201 with Location or 200, and the new ETag."""
    try:
        current: M | None = await load()
    except missing:
        current = None
    check_if_match(request, current)
    built = build_record(record, data)
    if check is not None:
        await check(built)
    records: Any = {entity: [built]}
    await apply(session, actor, **records)
    stored = await load()
    if current is None:
        response.status_code = 201
        response.headers["Location"] = location
    set_etag(response, stored)
    return stored
