"""The RFC 9457 problem+json handlers that render every error path: the AppError family,
request validation, Starlette's HTTP errors, and the database's errors and outages."""

import asyncio
import logging
import re
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    AppError,
    BadRequest,
    ConflictError,
    MethodNotAllowed,
    NotAcceptable,
    NotFoundError,
    PayloadTooLarge,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)
from app.observability.context import note_error, request_id

log = logging.getLogger("juriscope.errors")

_HTTP_TYPES = {
    400: BadRequest,
    401: Unauthorized,
    403: PermissionDenied,
    404: NotFoundError,
    405: MethodNotAllowed,
    406: NotAcceptable,
    409: ConflictError,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    422: ValidationFailed,
    429: RateLimited,
    503: Unavailable,
}

# Errors that mean "the database cannot be reached or did not answer in time".
DATABASE_DOWN = (
    OSError,
    asyncio.TimeoutError,
    TimeoutError,
    sa_exc.TimeoutError,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.QueryCanceledError,
    asyncpg.InterfaceError,
)


def is_database_down(error: BaseException) -> bool:
    """True for connection failures and timeouts, unwrapping SQLAlchemy's DBAPIError."""
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        original = getattr(error.orig, "__cause__", None) or error.orig
        return isinstance(original, DATABASE_DOWN) or isinstance(error.orig, DATABASE_DOWN)
    return isinstance(error, DATABASE_DOWN)


def problem_response(
    request: Request,
    *,
    status: int,
    title: str,
    type_: str = "about:blank",
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors is not None:
        body["errors"] = errors
    body["request_id"] = request_id()
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _clean_loc(loc: Any) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def _issues(errors: Any) -> list[dict[str, Any]]:
    return [
        {
            "loc": _clean_loc(error.get("loc", ())),
            "msg": error.get("msg", ""),
            "type": error.get("type", "value_error"),
        }
        for error in errors
    ]


async def _app_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AppError)
    return problem_response(
        request,
        status=error.status,
        title=error.title,
        type_=error.type,
        detail=error.detail,
        errors=error.errors,
        headers=error.headers,
    )


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    issues = _issues(error.errors())
    if any(issue["type"] == "json_invalid" for issue in issues):
        return problem_response(
            request,
            status=400,
            title="Bad Request",
            type_=BadRequest.type,
            detail="The request body is not valid JSON.",
            errors=issues,
        )
    return problem_response(
        request,
        status=422,
        title=ValidationFailed.title,
        type_=ValidationFailed.type,
        detail="; ".join(
            f"{'.'.join(str(p) for p in issue['loc'])}: {issue['msg']}" for issue in issues
        ),
        errors=issues,
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    known = _HTTP_TYPES.get(error.status_code)
    title = known.title if known else "Error"
    detail = error.detail if isinstance(error.detail, str) else None
    if error.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}."
    elif error.status_code == 405:
        # Each method of a path is a route of its own: list the methods of all of them.
        allowed = _allowed_methods(request)
        detail = f"{request.method} is not allowed on {request.url.path}."
        error = StarletteHTTPException(405, detail, headers={"Allow": ", ".join(allowed)})
    return problem_response(
        request,
        status=error.status_code,
        title=title,
        type_=known.type if known else "about:blank",
        detail=detail,
        headers=dict(error.headers or {}),
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every method of the path, from the OpenAPI document (each method of a path is a route
    of its own, so the router alone would name only the first that matched)."""
    path = request.url.path
    methods: set[str] = set()
    paths = request.app.openapi()["paths"]
    if path in paths:
        # A literal path (/v1/scenarios/evaluate) is its own resource, not an {id} of its
        # parent: the parent's methods do not apply to it.
        paths = {path: paths[path]}
    for template, operations in paths.items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            methods |= {method.upper() for method in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


# Contention, not failure: a lock wait over lock_timeout, a deadlock, a serialisation
# failure. The write changed nothing; the same request can simply be sent again.
_BUSY_SQLSTATES = {"55P03", "40P01", "40001"}


def _sqlstate(error: BaseException) -> str:
    orig = getattr(error, "orig", None)
    cause = getattr(orig, "__cause__", None) or orig
    return str(getattr(cause, "sqlstate", "") or "")


async def _unhandled(request: Request, error: Exception) -> JSONResponse:
    if _sqlstate(error) in _BUSY_SQLSTATES:
        log.info("contention on %s %s: %s", request.method, request.url.path, _sqlstate(error))
        return problem_response(
            request,
            status=503,
            title=Unavailable.title,
            type_=Unavailable.type,
            detail="Another write holds what this request needs; nothing was changed. "
            "Retry shortly.",
            headers={"Retry-After": "1"},
        )
    if isinstance(error, sa_exc.TimeoutError):
        # Every pooled connection stayed busy past the pool timeout: overload, not an outage.
        log.warning("connection pool exhausted on %s", request.url.path)
        return problem_response(
            request,
            status=503,
            title=Unavailable.title,
            type_=Unavailable.type,
            detail="The server is busy; retry shortly.",
            headers={"Retry-After": "1"},
        )
    if is_database_down(error):
        log.warning("database unavailable: %s", error.__class__.__name__)
        return problem_response(
            request,
            status=503,
            title=Unavailable.title,
            type_=Unavailable.type,
            detail="The database is unreachable; retry shortly.",
            headers={"Retry-After": "5"},
        )
    # The traceback goes in the request's own log event (app.observability.requests).
    note_error(error)
    return problem_response(
        request,
        status=500,
        title="Internal Server Error",
        type_=AppError.type,
        detail="An unexpected error occurred; it has been logged.",
    )


# PostgreSQL's integrity errors, by SQLSTATE: conflicts with stored data are 409, a value
# outside a CHECK constraint is a 422. The constraint name comes from the driver's
# diagnostics, never from parsing the message.
_INTEGRITY = {"23505": 409, "23P01": 409, "23503": 409, "23514": 422, "23502": 422}


async def _data_error(request: Request, error: Exception) -> JSONResponse:
    """A value PostgreSQL cannot take (SQLSTATE class 22, e.g. a NUL byte in text) is a 422;
    anything else unexpected from the driver is a 503 if the database is down, else a 500."""
    cause = getattr(getattr(error, "orig", None), "__cause__", None)
    sqlstate = str(getattr(cause, "sqlstate", ""))
    if sqlstate.startswith("22"):
        where = "query" if request.method in ("GET", "HEAD") else "body"
        message = str(getattr(cause, "message", None) or cause or "invalid value")
        return problem_response(
            request,
            status=422,
            title=ValidationFailed.title,
            type_=ValidationFailed.type,
            detail="A value cannot be stored or compared as given (invalid characters or out "
            f"of range): {message}",
            errors=[{"loc": [where], "msg": message, "type": "data_exception"}],
        )
    return await _unhandled(request, error)


async def _integrity_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, sa_exc.IntegrityError)
    cause = getattr(error.orig, "__cause__", None) or error.orig
    sqlstate = getattr(cause, "sqlstate", None)
    constraint = getattr(cause, "constraint_name", None)
    status = _INTEGRITY.get(str(sqlstate), 409)
    known = _HTTP_TYPES[status]
    what = {
        "23505": "an entity with this identifier already exists",
        "23P01": "validity intervals of one jurisdiction and feature would overlap",
        "23503": "it refers to, or is referred to by, other stored data",
        "23514": "a value is outside its allowed range",
        "23502": "a required value is missing",
    }.get(str(sqlstate), "it conflicts with stored data")
    log.info("integrity error %s on %s", constraint, request.url.path)
    return problem_response(
        request,
        status=status,
        title=known.title,
        type_=known.type,
        detail=f"Not stored: {what} (constraint {constraint}).",
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sa_exc.IntegrityError, _integrity_error)
    app.add_exception_handler(sa_exc.DataError, _data_error)
    app.add_exception_handler(sa_exc.DBAPIError, _data_error)
    app.add_exception_handler(Exception, _unhandled)
    for error_type in (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.TimeoutError,
        OSError,
        TimeoutError,
    ):
        app.add_exception_handler(error_type, _unhandled)
