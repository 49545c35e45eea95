"""Loopback ports and waiting: the one free-port helper and the one poll loop."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float,
    since: float | None = None,
    ignore: tuple[type[Exception], ...] = (),
) -> T | None:
    """Call ``probe`` every ``interval`` seconds until it returns something other than None.

    Returns that value, or None once ``timeout`` seconds have passed since ``since`` (a
    ``time.monotonic()`` reading; default: now). Exceptions of the ``ignore`` types count
    as "not yet"; any other exception ends the wait (a probe raises to say "give up").
    The caller words the failure: it knows what it waited for and what to show."""
    deadline = (time.monotonic() if since is None else since) + timeout
    while time.monotonic() < deadline:
        try:
            result = probe()
        except ignore:
            result = None
        if result is not None:
            return result
        time.sleep(interval)
    return None
