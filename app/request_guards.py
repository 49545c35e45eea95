"""Bounds on a request once its headers are in: how long its body may take, and how many
requests with a body are processed at once.

Both act where the app reads the body (the ASGI ``receive`` it awaits) and raise an
HTTPException there, which FastAPI re-raises from body parsing, so the answer goes
through the service's error handlers in its one shape:

- 408 ``request_timeout`` when the body has not fully arrived
  ``BANKCHURN_BODY_TIMEOUT_SECONDS`` after the request started (a total, not a pause
  between reads: a client trickling a byte a second is as slow as one that stops);
- 503 ``overloaded`` with ``Retry-After`` when a body has fully arrived and
  ``BANKCHURN_MAX_REQUESTS_IN_FLIGHT`` requests are already being processed. A request
  still sending its body does not count: slow clients are bounded by the timeouts and
  the connection cap (app/http_protocol.py), so they cannot crowd out good ones.

Both answers say ``Connection: close``: the client is told to start afresh.
"""

from __future__ import annotations

import asyncio
from time import monotonic

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import RequestBodyError

RETRY_AFTER_SECONDS = "1"


class BodyTimeoutError(RequestBodyError):
    def __init__(self, timeout: float) -> None:
        super().__init__(
            408,
            "request_timeout",
            f"The request body did not arrive within {timeout:g} s; send it at once "
            "(the connection is closed).",
        )
        self.headers = {"Connection": "close"}


class OverloadedError(RequestBodyError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            503,
            "overloaded",
            f"This worker is processing its maximum of {limit} requests; retry after "
            f"{RETRY_AFTER_SECONDS} s.",
            headers={"Retry-After": RETRY_AFTER_SECONDS, "Connection": "close"},
        )


class RequestGuardMiddleware:
    """The body timeout and the in-flight limit (see the module docstring)."""

    def __init__(self, app: ASGIApp, body_timeout: float, max_in_flight: int) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = monotonic() + self.body_timeout
        counted = False

        async def guarded_receive() -> Message:
            nonlocal counted
            if counted:  # the body is in: later receives only listen for a disconnect
                return await receive()
            remaining = deadline - monotonic()
            try:
                async with asyncio.timeout(remaining if remaining > 0 else 0):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeoutError(self.body_timeout) from None
            if message["type"] == "http.request" and not message.get("more_body", False):
                if self.in_flight >= self.max_in_flight:
                    raise OverloadedError(self.max_in_flight)
                counted = True
                self.in_flight += 1
            return message

        try:
            await self.app(scope, guarded_receive, send)
        finally:
            if counted:
                self.in_flight -= 1
