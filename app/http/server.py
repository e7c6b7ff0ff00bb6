"""The HTTP/1.1 protocol `serve` runs: uvicorn's httptools protocol with the limits it lacks.

uvicorn bounds neither the size of a request head nor the time a client may take to send
it, so a client trickling an endless header holds a connection and its memory forever. Here
the request line and headers together are bounded (414 for a long target, 431 for large
headers) and must arrive within a timeout (408), and the errors the server itself answers
are problem+json like the app's.
"""

import asyncio
import json
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.core.config import get_settings
from app.observability.context import new_request_id

log = logging.getLogger("juriscope.server")

PROBLEM_TYPES = {
    400: ("Bad Request", "/problems/bad-request"),
    408: ("Request Timeout", "/problems/request-timeout"),
    414: ("URI Too Long", "/problems/uri-too-long"),
    431: ("Request Header Fields Too Large", "/problems/header-fields-too-large"),
}


def problem_bytes(status: int, detail: str) -> bytes:
    """A whole HTTP/1.1 response carrying a problem+json body, closing the connection."""
    title, type_ = PROBLEM_TYPES[status]
    # The request never reached the app, so it has no id yet: this answer gets one of its
    # own, logged with the refusal.
    request_id = new_request_id()
    log.info(
        "refused a request before the app: %s %s",
        status,
        detail,
        extra={"event": "refused", "status": status, "request_id": request_id},
    )
    body = json.dumps(
        {
            "type": type_,
            "title": title,
            "status": status,
            "detail": detail,
            "request_id": request_id,
        }
    )
    return (
        f"HTTP/1.1 {status} {title}\r\n"
        "content-type: application/problem+json\r\n"
        f"x-request-id: {request_id}\r\n"
        f"content-length: {len(body)}\r\n"
        "cache-control: no-store\r\n"
        "connection: close\r\n\r\n"
        f"{body}"
    ).encode()


LINGER_S = 2.0


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.max_head_bytes = settings.max_header_bytes
        self.head_timeout_s = settings.header_timeout_s
        self.head_bytes = 0
        self.in_head = True
        self.head_timer: asyncio.TimerHandle | None = None
        self.refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.in_head and self.head_bytes and not self.transport.is_closing():
            self._refuse(408, f"The request head did not arrive within {self.head_timeout_s} s.")
        elif self.cycle is None and not self.transport.is_closing():
            self.transport.close()  # connected, sent nothing

    def _refuse(self, status: int, detail: str) -> None:
        """Answer, then close gracefully: half-close our side and discard what the client is
        still sending for a moment (closing with unread data would reset the connection
        before the client reads the answer)."""
        self._stop_head_timer()
        self.in_head = False
        self.refused = True
        self.transport.write(problem_bytes(status, detail))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_S, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if self.refused or self.transport.is_closing():
            return  # lingering after a refusal: discard
        if self.in_head:
            self.head_bytes += len(data)
            self._start_head_timer()
        super().data_received(data)
        if self.in_head and self.head_bytes > self.max_head_bytes:
            if len(getattr(self, "url", b"")) > self.max_head_bytes // 2:
                self._refuse(414, f"The request target is over {self.max_head_bytes // 2} bytes.")
            else:
                self._refuse(431, f"The request head is over {self.max_head_bytes} bytes.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head = True

    def on_headers_complete(self) -> None:
        self.in_head = False
        self.head_bytes = 0
        self._stop_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.in_head = True  # the next request on this connection starts its head
        self.head_bytes = 0

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, f"{msg} (malformed HTTP/1.1)")
