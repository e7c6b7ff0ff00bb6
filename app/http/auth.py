"""Who is calling: API keys on `Authorization: Bearer`, scopes, and the public-read switch."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.core.db import lock_writers
from app.core.errors import PermissionDenied, Unauthorized
from app.http.dependencies import SessionDep
from app.keys import service as keys_service
from app.keys.schemas import Caller
from app.observability.context import note_key

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key from `juriscope keys create` or POST /v1/keys: "
    "`Authorization: Bearer jsk_...`.",
)


async def get_caller(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller | None:
    """The caller's key, if one is presented; a 401 when it is unknown or revoked."""
    if credentials is None:
        return None
    caller = await keys_service.authenticate(session, credentials.credentials)
    if caller is None:
        raise Unauthorized(
            "The API key is unknown or revoked.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    note_key(caller.id)
    return caller


def require_scope(scope: str) -> Callable[..., Coroutine[Any, Any, Caller]]:
    """A dependency that needs a key with `scope` (an admin key has every scope)."""

    async def dependency(
        request: Request,
        session: SessionDep,
        caller: Annotated[Caller | None, Depends(get_caller)],
    ) -> Caller:
        if caller is None:
            raise Unauthorized(
                "This operation needs an API key: `Authorization: Bearer <key>`.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if scope not in caller.scopes and "admin" not in caller.scopes:
            raise PermissionDenied(f"The API key {caller.id} lacks the {scope!r} scope.")
        request.state.caller = caller
        # Everything the write reads from here on (the current ETag, a parent, an interval)
        # is read under the writers' lock, so checking and writing are one atomic step.
        await lock_writers(session)
        return caller

    return dependency


async def read_access(
    request: Request, caller: Annotated[Caller | None, Depends(get_caller)]
) -> None:
    """Reads are public unless JURISCOPE_PUBLIC_READ=false; then any valid key may read."""
    if caller is None and not request.app.state.settings.public_read:
        raise Unauthorized(
            "Reads need an API key on this server: `Authorization: Bearer <key>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )


WriteKey = Annotated[Caller, Depends(require_scope("write"))]
AdminKey = Annotated[Caller, Depends(require_scope("admin"))]
READ_ACCESS = Depends(read_access)
