"""Draining shutdown: after SIGTERM, keep answering for a while, then stop cleanly.

uvicorn on its own stops listening the moment SIGTERM arrives and closes every idle
keep-alive connection at once, so a request already on its way (sent by a load
balancer that has not yet seen the pod go) is reset: 11-15 lost per run at 150 req/s.
Here SIGTERM starts a drain instead:

1. ``/ready`` answers 503 (reason ``shutting_down``) so balancers take the worker out;
2. every response carries ``Connection: close``, so keep-alive clients move to another
   connection (and instance) after their current answer, on their own terms;
3. new connections are still accepted and answered for ``BANKCHURN_DRAIN_SECONDS``;
4. then uvicorn's own graceful shutdown runs: it stops listening, lets requests in
   progress finish (``--timeout-graceful-shutdown``), and the HTTP protocol
   (app/http_protocol.py) closes a connection only once it has been idle a moment.

The process then exits 0. uvicorn would re-raise the captured SIGTERM after its
shutdown (exit 143); the drain ends the server through its ``should_exit`` flag, the
documented way to stop a ``uvicorn.Server`` from code, so the exit is a clean one.
The handler is installed from the lifespan, i.e. in each worker process once uvicorn
has installed its own: it wraps uvicorn's, it does not replace uvicorn internals.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from dataclasses import dataclass
from time import monotonic
from types import FrameType
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ApiError
from app.response_start import ResponseStart

logger = logging.getLogger("bankchurn.api.shutdown")


@dataclass
class Drain:
    """This process's shutdown state (one per worker process)."""

    started_at: float | None = None

    @property
    def active(self) -> bool:
        return self.started_at is not None


DRAIN = Drain()


class ShuttingDownError(ApiError):
    def __init__(self) -> None:
        super().__init__(
            503,
            "not_ready",
            "The service is shutting down; send requests to another instance.",
            reason="shutting_down",
        )


def require_not_draining() -> None:
    """For /ready: a draining worker is not ready, whatever its model."""
    if DRAIN.active:
        raise ShuttingDownError()


def install_drain_on_sigterm(drain_seconds: float) -> None:
    """Make SIGTERM drain for ``drain_seconds``, then stop uvicorn's server cleanly.

    Only in the main thread of a process run by uvicorn (signals cannot be handled
    elsewhere; in-process test clients run the app in a thread and keep no handler).
    """
    if threading.current_thread() is not threading.main_thread():
        return
    server = _uvicorn_server(signal.getsignal(signal.SIGTERM))
    if server is None:
        return
    loop = asyncio.get_running_loop()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if DRAIN.active:
            return
        DRAIN.started_at = monotonic()
        loop.call_soon_threadsafe(_start_drain, loop, server, drain_seconds)

    signal.signal(signal.SIGTERM, on_sigterm)


def _uvicorn_server(handler: Any) -> Any:
    """The uvicorn.Server whose handle_exit is ``handler``, if it is one."""
    from uvicorn import Server

    owner = getattr(handler, "__self__", None)
    return owner if isinstance(owner, Server) else None


def _start_drain(loop: asyncio.AbstractEventLoop, server: Any, drain_seconds: float) -> None:
    logger.info("SIGTERM: draining", extra={"drain_seconds": drain_seconds})

    def stop() -> None:
        logger.info("drain over: closing idle connections, finishing requests in progress")
        server.should_exit = True

    loop.call_later(drain_seconds, stop)


class DrainMiddleware:
    """While draining, answer every request with ``Connection: close``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        await self.app(scope, receive, ResponseStart(send, _close_while_draining))


def _close_while_draining(message: Message) -> None:
    """Decided when the response starts: a drain may begin while the request is served."""
    if DRAIN.active:
        MutableHeaders(scope=message)["Connection"] = "close"
