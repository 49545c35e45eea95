"""uvicorn's httptools protocol with the bounds it lacks: header timeout, connection cap,
and a shutdown that closes a connection only once it is really idle.

uvicorn has no timeout for a request's headers (a client may hold a connection open
forever by sending them byte by byte, or nothing at all) and ``--limit-concurrency``
answers in plain text. This subclass, selected with
``--http app.http_protocol:GuardedHttpToolsProtocol`` (docker/serve.py passes it), adds:

- ``BANKCHURN_HEADER_TIMEOUT_SECONDS``: from the connection (or a request's first byte)
  to the end of its headers; past it, 408 in the service's error shape if a request
  had begun, else the silent connection is closed.
- ``BANKCHURN_MAX_CONNECTIONS``: a connection above the cap is answered 503 with
  ``Retry-After`` once its headers arrive (within a short header timeout), and closed.
- At shutdown (after the drain, app/draining.py) uvicorn asks each connection to close:
  one in the middle of a request finishes it first (uvicorn's own rule); an idle one is
  closed only after ``IDLE_GRACE_SECONDS`` without a byte, so a request already on its
  way when the server decided is read and answered instead of reset.

The body's timeout and the limit on requests in progress are ASGI-level
(app/request_guards.py), where a 408 or 503 can go through the app's error handlers.
Only the hooks uvicorn's protocol exposes are overridden; each calls the parent.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.draining import DRAIN
from app.errors import REQUEST_ID_HEADER, new_request_id
from app.schemas import ErrorBody, ErrorResponse
from app.settings import get_settings

IDLE_GRACE_SECONDS = 0.5
# A connection over the cap gets this long to send its headers and be told 503.
OVER_CAP_HEADER_TIMEOUT_SECONDS = 1.0
RETRY_AFTER_SECONDS = "1"
_REASONS = {408: b"Request Timeout", 503: b"Service Unavailable"}


def raw_error(status: int, code: str, message: str, headers: dict[str, str]) -> bytes:
    """A complete HTTP/1.1 response in the service's error shape, closing the connection."""
    request_id = new_request_id()
    body = ErrorResponse(
        error=ErrorBody(code=code, message=message, request_id=request_id, reason=None)
    )
    content = json.dumps(body.model_dump(mode="json"), separators=(",", ":")).encode()
    lines = [
        b"HTTP/1.1 %d %s" % (status, _REASONS[status]),
        b"content-type: application/json",
        b"content-length: %d" % len(content),
        b"connection: close",
        f"{REQUEST_ID_HEADER.lower()}: {request_id}".encode(),
        *(f"{name}: {value}".encode() for name, value in headers.items()),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + content


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.header_timeout = settings.header_timeout_seconds
        self.max_connections = settings.max_connections
        self.header_timer: asyncio.TimerHandle | None = None
        self.idle_timer: asyncio.TimerHandle | None = None
        self.reading_headers = False
        self.over_cap = False
        self.refused = False
        self.closing = False
        self.last_activity = 0.0

    # --- connection lifecycle -------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.last_activity = self.loop.time()
        self.over_cap = len(self.connections) > self.max_connections
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self.header_timer, self.idle_timer):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return  # answered and closing: the rest is not read
        self.last_activity = self.loop.time()
        super().data_received(data)

    # --- parser callbacks -----------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_headers = True
        if self.header_timer is None:
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self.reading_headers = False
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None
        if self.over_cap:
            self._refuse(
                503,
                "overloaded",
                f"This worker has its maximum of {self.max_connections} connections open; "
                f"retry after {RETRY_AFTER_SECONDS} s.",
                {"retry-after": RETRY_AFTER_SECONDS},
            )
            return
        super().on_headers_complete()
        if (self.closing or DRAIN.active) and self.cycle is not None:
            self.cycle.keep_alive = False

    def on_body(self, body: bytes) -> None:
        if not self.refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self.refused:
            super().on_message_complete()

    # --- shutdown -------------------------------------------------------------------
    def shutdown(self) -> None:
        """uvicorn's shutdown asks every connection to close; close idle ones only."""
        self.closing = True
        self._close_when_idle()

    def _close_when_idle(self) -> None:
        self.idle_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # finish this request, then close
            return
        idle_for = self.loop.time() - self.last_activity
        if not self.reading_headers and idle_for >= IDLE_GRACE_SECONDS:
            self.transport.close()
            return
        # Bytes arrived a moment ago, or a request is under way: look again soon.
        wait = max(IDLE_GRACE_SECONDS - idle_for, 0.05)
        self.idle_timer = self.loop.call_later(wait, self._close_when_idle)

    # --- timeouts and refusals ------------------------------------------------------
    def _arm_header_timer(self) -> None:
        timeout = self.header_timeout
        if self.over_cap:
            timeout = min(timeout, OVER_CAP_HEADER_TIMEOUT_SECONDS)
        self.header_timer = self.loop.call_later(timeout, self._on_header_timeout)

    def _on_header_timeout(self) -> None:
        self.header_timer = None
        if self.transport.is_closing():
            return
        if self.reading_headers:
            self._refuse(
                408,
                "request_timeout",
                f"The request's headers took longer than {self.header_timeout:g} s to "
                "arrive; the connection is closed.",
                {},
            )
        elif self.cycle is None:  # connected, never sent anything
            self.refused = True
            self.transport.close()

    def _refuse(self, status: int, code: str, message: str, headers: dict[str, str]) -> None:
        self.refused = True
        self.transport.write(raw_error(status, code, message, headers))
        self.transport.close()
