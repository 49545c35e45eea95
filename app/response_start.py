"""The ``send`` the service's pure ASGI middleware hand on: it watches the response start.

The HTTP metrics, the request id and access log, the drain and the docs' security policy
each need only the ``http.response.start`` message: its status, or a header added to it.
``ResponseStart`` is that wrapper, written once instead of once per middleware.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Message, Send


class ResponseStart:
    """``send``, noting the response's status and letting ``amend`` change its start message
    (add headers) before it goes out; every other message passes as it is.

    ``status`` is 500 until the start is sent: what the client gets if the app raises first.
    """

    __slots__ = ("_amend", "_send", "status")

    def __init__(self, send: Send, amend: Callable[[Message], None] | None = None) -> None:
        self._send = send
        self._amend = amend
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            if self._amend is not None:
                self._amend(message)
        await self._send(message)
