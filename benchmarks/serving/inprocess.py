"""The real app driven in this process through its ASGI interface, one request at a time.

No socket and no HTTP server: what the ablation (benchmarks/serving/ablation.py) and the
instruction counts (benchmarks/instructions.py) measure is the app's own work.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import FastAPI
from starlette.types import Message

from benchmarks.errors import BenchError
from benchmarks.serving.payload import Payload

READY_TIMEOUT = 60.0


async def await_model(app: FastAPI) -> None:
    """Return once the app's model has loaded (it loads in the background at start-up)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while app.state.model_state.model is None:
        if time.monotonic() > deadline:
            raise BenchError("the model did not load; see the log")
        await asyncio.sleep(0.01)


async def request(app: FastAPI, payload: Payload, query: bytes = b"") -> None:
    """One request through the app's ASGI interface, no socket; anything but 200 is an error."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": payload.path, "raw_path": payload.path.encode(),
        "query_string": query, "root_path": "", "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload.body)).encode())],
    }  # fmt: skip
    messages = [{"type": "http.request", "body": payload.body, "more_body": False}]
    status = 0

    async def receive() -> Message:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # a disconnect that never comes
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    if status != 200:
        raise BenchError(f"{payload.path}?{query.decode()} answered {status}")
