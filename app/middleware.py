"""Pure ASGI middleware: request ids with the access log, and the request body limit.

Pure ASGI (not ``BaseHTTPMiddleware``) so the body limit sees the byte stream itself
and nothing buffers or re-wraps the response.
"""

from __future__ import annotations

import re
from time import perf_counter

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import (
    REQUEST_ID_HEADER,
    PayloadTooLargeError,
    error_response,
    is_open_inference,
    new_request_id,
    payload_too_large_message,
    request_id_of,
)
from app.http_metrics import RouteTemplates
from app.log import access_logger
from app.response_start import ResponseStart

# An incoming id is kept only if it is short and inert (no spaces, quotes, newlines).
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id_for(headers: Headers) -> str:
    incoming = headers.get(REQUEST_ID_HEADER, "")
    return incoming if _SANE_REQUEST_ID.match(incoming) else new_request_id()


class RequestContextMiddleware:
    """Give each request an id (header in, header out) and write its access log line
    (unless ``access_log`` is off: BANKCHURN_ACCESS_LOG=false); the route template is the
    one the HTTP metrics resolved for the same request (``templates``)."""

    def __init__(self, app: ASGIApp, templates: RouteTemplates, access_log: bool = True) -> None:
        self.app = app
        self.templates = templates
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(Headers(scope=scope))
        scope.setdefault("state", {})["request_id"] = request_id
        started = perf_counter()

        def with_request_id(message: Message) -> None:
            MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id

        sent = ResponseStart(send, with_request_id)
        if not self.access_log:
            await self.app(scope, receive, sent)
            return
        try:
            await self.app(scope, receive, sent)
        finally:
            access_logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": self.templates(scope),
                    "status": sent.status,
                    "duration_ms": round((perf_counter() - started) * 1000, 3),
                },
            )


class BodySizeLimitMiddleware:
    """Answer 413 for bodies over ``max_bytes``, counting what actually arrives.

    A declared Content-Length over the limit is refused before reading anything; a
    body without one (chunked) or one that lies is cut off as soon as the running
    total passes the limit. Starlette's own limiter answers in plain text; this one
    keeps the service's single error shape.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = error_response(
                request_id_of(scope.get("state", {})),
                413,
                "payload_too_large",
                payload_too_large_message(self.max_bytes),
                open_inference=is_open_inference(scope["path"]),
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLargeError(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)


# What the documentation pages may load: this server only (their inline start-up scripts
# and styles aside). ReDoc shows a logo from cdn.redoc.ly in every build; with this the
# browser never asks for it, so /docs and /redoc work air-gapped and leak nothing.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)


class DocsContentSecurityPolicyMiddleware:
    """Send ``DOCS_CONTENT_SECURITY_POLICY`` with the pages under ``paths``."""

    def __init__(self, app: ASGIApp, paths: frozenset[str]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return

        await self.app(scope, receive, ResponseStart(send, _with_docs_policy))


def _with_docs_policy(message: Message) -> None:
    MutableHeaders(scope=message)["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
