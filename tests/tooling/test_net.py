"""tooling.net: the one free-port helper and the one poll loop every wait goes through."""

from __future__ import annotations

import socket
import time

import pytest

from tooling.net import free_port, wait_until


def test_a_free_port_can_be_bound_on_loopback() -> None:
    port = free_port()

    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        assert server.getsockname() == ("127.0.0.1", port)


def test_wait_until_returns_the_first_value_that_is_not_none() -> None:
    answers = iter([None, None, "ready", "later"])

    assert wait_until(lambda: next(answers), timeout=5, interval=0.001) == "ready"


def test_wait_until_gives_none_once_the_timeout_has_passed() -> None:
    started = time.monotonic()

    assert wait_until(lambda: None, timeout=0.2, interval=0.01) is None
    assert 0.2 <= time.monotonic() - started < 2


def test_the_timeout_counts_from_since_not_from_the_call() -> None:
    calls: list[float] = []

    found = wait_until(
        lambda: calls.append(1.0), timeout=1, interval=0.01, since=time.monotonic() - 5
    )

    assert found is None
    assert calls == []


def test_ignored_errors_mean_not_yet_and_others_end_the_wait() -> None:
    attempts = iter([OSError("refused"), OSError("refused"), 7])

    def probe() -> int:
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert wait_until(probe, timeout=5, interval=0.001, ignore=(OSError,)) == 7
    with pytest.raises(ValueError, match="gave up"):
        wait_until(lambda: (_ for _ in ()).throw(ValueError("gave up")), timeout=5, interval=0.001)
