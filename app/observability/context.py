"""The request being served, as seen from anywhere in its task: its id and what the layers
below the access log learned about it (route template, cache outcome, caller's key id).

The id lives in asgi-correlation-id's context variable; the rest in a small mutable record
that the outermost middleware creates, so every layer (and every log line) reaches it
without threading it through call signatures.
"""

import re
from contextvars import ContextVar
from dataclasses import dataclass
from uuid import uuid4

from asgi_correlation_id.context import correlation_id

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept only when it is short and made of characters that are safe in a
# header, a log line and a JSON string; anything else is replaced by one of ours.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def is_well_formed(request_id: str) -> bool:
    return _WELL_FORMED.fullmatch(request_id) is not None


def new_request_id() -> str:
    return uuid4().hex


def request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    return correlation_id.get()


@dataclass(slots=True)
class RequestInfo:
    route: str | None = None
    cache: str | None = None
    key_id: str | None = None
    error: BaseException | None = None


_current: ContextVar[RequestInfo | None] = ContextVar("juriscope_request", default=None)


def current_request() -> RequestInfo | None:
    return _current.get()


def start_request() -> RequestInfo:
    info = RequestInfo()
    _current.set(info)
    return info


def note_key(key_id: str) -> None:
    """Record the caller's (authenticated) key id for the request's log event."""
    info = _current.get()
    if info is not None:
        info.key_id = key_id


def note_error(error: BaseException) -> None:
    """Record an unexpected error answered as a 500: its traceback goes in the request's event."""
    info = _current.get()
    if info is not None:
        info.error = error
