"""The error family services raise, and the RFC 9457 problem+json document every error is
rendered as: its schema and the OpenAPI responses that document it. The handlers that render
them are in app.core.error_handlers."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ValidationIssue(BaseModel):
    """One invalid input: where it is, what is wrong, and a machine-readable type."""

    loc: list[str | int] = Field(examples=[["query", "limit"]])
    msg: str = Field(examples=["Input should be less than or equal to 500"])
    type: str = Field(examples=["less_than_equal"])


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "/problems/not-found",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "No jurisdiction with code 'XX'.",
                    "instance": "/v1/jurisdictions/XX",
                    "request_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                }
            ]
        }
    )

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ValidationIssue] | None = None
    request_id: str | None = Field(
        default=None,
        description="The request's id, also in the `X-Request-ID` response header and in the "
        "server's log lines for this request: quote it when reporting a problem.",
    )


class AppError(Exception):
    """Base of every error a service raises; rendered once, as problem+json."""

    status: int = 500
    title: str = "Internal Server Error"
    type: str = "/problems/internal"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class BadRequest(AppError):
    status, title, type = 400, "Bad Request", "/problems/bad-request"


class Unauthorized(AppError):
    status, title, type = 401, "Unauthorized", "/problems/unauthorized"


class PermissionDenied(AppError):
    status, title, type = 403, "Forbidden", "/problems/forbidden"


class NotFoundError(AppError):
    status, title, type = 404, "Not Found", "/problems/not-found"


class NotAcceptable(AppError):
    status, title, type = 406, "Not Acceptable", "/problems/not-acceptable"


class MethodNotAllowed(AppError):
    status, title, type = 405, "Method Not Allowed", "/problems/method-not-allowed"


class ConflictError(AppError):
    status, title, type = 409, "Conflict", "/problems/conflict"


class PreconditionFailed(AppError):
    status, title, type = 412, "Precondition Failed", "/problems/precondition-failed"


class PayloadTooLarge(AppError):
    status, title, type = 413, "Content Too Large", "/problems/too-large"


class ValidationFailed(AppError):
    status, title, type = 422, "Unprocessable Content", "/problems/validation"


class RateLimited(AppError):
    status, title, type = 429, "Too Many Requests", "/problems/rate-limited"


class Unavailable(AppError):
    status, title, type = 503, "Service Unavailable", "/problems/unavailable"


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting each status as a problem+json document."""
    descriptions = {
        400: "Malformed request (bad JSON body or cursor).",
        401: "Missing, unknown or revoked API key.",
        403: "The API key lacks the required scope.",
        404: "Unknown code or key; the detail names it.",
        406: "The Accept header asks for a representation this endpoint cannot produce.",
        409: "Conflict with stored data.",
        412: "If-Match did not match the current ETag.",
        413: "Request body over the configured limit.",
        422: "Invalid parameters; `errors` lists each one.",
        429: "Rate limit exceeded; see Retry-After.",
        503: "The database is unreachable.",
    }
    return {
        status: {
            "description": descriptions[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def problem_schemas() -> dict[str, Any]:
    """The Problem and ValidationIssue schemas for the OpenAPI components."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"Problem": schema, **definitions}
