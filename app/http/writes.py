"""What every write route shares: If-Match and If-None-Match against the current
representation, the new ETag, and create-or-replace around a domain service's write."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel

from app.core.errors import PreconditionFailed
from app.http.compression import identity_etag
from app.http.etags import resource_etag


def has_preconditions(request: Request) -> bool:
    """Whether check_if_match has anything to compare: an If-Match, or If-None-Match: *. A
    write may skip reading the current representation when it has not."""
    return "if-match" in request.headers or request.headers.get("if-none-match", "").strip() == "*"


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
    *,
    load: Callable[[], Awaitable[M]],
    missing: type[Exception],
    write: Callable[[], Awaitable[M]],
    location: str,
) -> M:
    """Create or replace one resource: If-Match against its current representation, then
    `write` (the domain service's create-or-replace, answering with the stored
    representation), 201 with Location or 200, and the new ETag."""
    try:
        current: M | None = await load()
    except missing:
        current = None
    check_if_match(request, current)
    stored = await write()
    if current is None:
        response.status_code = 201
        response.headers["Location"] = location
    set_etag(response, stored)
    return stored
