"""Strict reading of JSON request bodies and of numbers in query strings.

Python's `json` accepts what a data API should refuse: the same key twice (the last silently
wins), integers of any length (which then fail to convert to float deep inside), `1e400`
(infinity), and nesting deep enough to exhaust the stack. Query numbers parsed with `float()`
take `1_0`, `inf` and non-ASCII digits. Both are refused here, where input is parsed, with a
message saying why.
"""

import json
import math
import re
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import BadRequest, ValidationFailed
from app.http.protection import send_problem

MAX_DEPTH = 32
MAX_MAGNITUDE = 1e15
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")


class StrictJSONError(ValueError):
    """A JSON document that is well-formed but refused, or malformed; the message says why."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise StrictJSONError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _bounded(number: float, text: str) -> float:
    if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
        raise StrictJSONError(f"the number {text[:40]} is out of range (|x| <= 1e15)")
    return number


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 16:
        raise StrictJSONError(f"the number {text[:40]}... is out of range (|x| <= 1e15)")
    value = int(text)
    _bounded(float(value), text)
    return value


def _float(text: str) -> float:
    return _bounded(float(text), text)


def depth_of(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped)."""
    brackets = _STRING.sub(b"", raw).translate(None, _BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in (0x5B, 0x7B) else -1
        deepest = max(deepest, depth)
    return deepest


def loads(raw: bytes | str) -> Any:
    """Parse a JSON request body strictly; StrictJSONError saying why it is refused."""
    data = raw.encode() if isinstance(raw, str) else raw
    if depth_of(data) > MAX_DEPTH:
        raise StrictJSONError(f"the document is nested deeper than {MAX_DEPTH} levels")
    try:
        # NaN and Infinity literals pass: every number field refuses them with its own
        # location in the body, which is more useful than a refusal of the whole body.
        return json.loads(data, object_pairs_hook=_pairs, parse_int=_int, parse_float=_float)
    except StrictJSONError:
        raise
    except (ValueError, RecursionError) as error:
        raise StrictJSONError(f"not valid JSON: {error}") from None


def parse_number(text: str) -> float:
    """A query-string number: ASCII digits only, no `_`, finite, |x| <= 1e15; ValueError."""
    text = text.strip()
    if not _NUMBER.match(text):
        raise ValueError(f"{text!r} is not a number (ASCII digits, optional . and exponent)")
    return _float(text)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media in ("", "application/json") or media.endswith("+json")


async def _refuse(send: Send, scope: Scope, malformed: bool, detail: str) -> None:
    kind = BadRequest if malformed else ValidationFailed
    errors = [{"loc": ["body"], "msg": detail, "type": "json_refused"}]
    await send_problem(send, scope, kind.status, kind.title, detail, type_=kind.type, errors=errors)


class StrictJSONMiddleware:
    """Checks a JSON request body before the app parses it: malformed is a 400; duplicate
    keys, numbers out of range, NaN/Infinity or nesting over 32 levels a 422. The body is
    read once (the body limit outside bounds it) and replayed to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("POST", "PUT", "PATCH", "DELETE")
            or not _is_json(Headers(scope=scope).get("content-type", ""))
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body.strip():
            try:
                loads(body)
            except StrictJSONError as error:
                if str(error).startswith("not valid JSON"):
                    detail = f"The request body is {error}."
                    await _refuse(send, scope, True, detail)
                else:
                    await _refuse(send, scope, False, f"The request body is refused: {error}.")
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
