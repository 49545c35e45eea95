"""app.response_start: the send wrapper every pure ASGI middleware of the service hands on."""

from __future__ import annotations

import asyncio

from starlette.datastructures import MutableHeaders
from starlette.types import Message

from app.response_start import ResponseStart

START = {"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"2")]}
BODY = {"type": "http.response.body", "body": b"{}"}


def _send_all(sent: ResponseStart, *messages: Message) -> None:
    async def main() -> None:
        for message in messages:
            await sent(message)

    asyncio.run(main())


def test_status_is_500_until_the_response_starts_then_the_one_sent() -> None:
    received: list[Message] = []

    async def send(message: Message) -> None:
        received.append(message)

    sent = ResponseStart(send)
    assert sent.status == 500  # the app raised before responding: the client gets a 500
    _send_all(sent, dict(START), dict(BODY))

    assert sent.status == 404
    assert received == [START, BODY]  # passed on unchanged, in order


def test_amend_changes_the_start_message_only() -> None:
    received: list[Message] = []
    amended: list[str] = []

    async def send(message: Message) -> None:
        received.append(message)

    def add_header(message: Message) -> None:
        amended.append(message["type"])
        MutableHeaders(scope=message)["X-Request-ID"] = "abc"

    _send_all(ResponseStart(send, add_header), dict(START), dict(BODY))

    assert amended == ["http.response.start"]
    assert received[0]["headers"] == [(b"content-length", b"2"), (b"x-request-id", b"abc")]
    assert received[1] == BODY
