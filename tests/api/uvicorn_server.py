"""A real ``uvicorn app.fastapi_app:app`` process for the server tests (the ``serve`` fixtures
of tests/api/conftest.py start them and stop whatever is left)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tooling.net import free_port, wait_until
from tooling.paths import REPO_ROOT

# How long a server may take to answer as asked (start-up and model loading included).
ANSWER_TIMEOUT = 30.0
T = TypeVar("T")


class Server:
    """A ``uvicorn app.fastapi_app:app`` process on a free loopback port."""

    def __init__(
        self,
        env: dict[str, str],
        args: list[str],
        log_path: Path,
        launcher: Callable[[int], list[str]] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        if launcher is None:
            command = [sys.executable, "-m", "uvicorn", "app.fastapi_app:app"]
            command += ["--host", "127.0.0.1", "--port", str(self.port), *args]
        else:  # another way in (make serve, docker/serve.py), given the port
            command = [*launcher(self.port), *args]
        with log_path.open("wb") as log:
            # A session of its own: close() can then end uvicorn's worker processes too.
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        # One client for the test's requests (creating an httpx client costs ~0.3 s here).
        # No keep-alive: each request opens a new connection, as separate callers would,
        # so the kernel can hand it to any worker.
        self.http = httpx.Client(
            base_url=self.url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)
        )

    def wait_for(self, path: str, status: int, timeout: float = ANSWER_TIMEOUT) -> httpx.Response:

        def answered() -> httpx.Response | None:
            if self.process.poll() is not None:
                pytest.fail(f"uvicorn exited with {self.process.returncode}:\n{self.log()}")
            response = self.http.get(path)
            return response if response.status_code == status else None

        # TransportError: not listening yet.
        found = wait_until(answered, timeout=timeout, interval=0.05, ignore=(httpx.TransportError,))
        if found is not None:
            return found
        pytest.fail(f"{path} never answered {status} within {timeout} s:\n{self.log()}")

    def eventually(
        self, condition: Callable[[], T | None], what: str, timeout: float = ANSWER_TIMEOUT
    ) -> T:
        """``condition``'s first value that is not None (polled every 0.05 s), or a test failure
        naming ``what`` with the server's log."""
        found = wait_until(condition, timeout=timeout, interval=0.05)
        if found is None:
            pytest.fail(f"not within {timeout} s: {what}\n{self.log()[-3000:]}")
        return found

    def ready_pids(self) -> set[int]:
        """The processes (workers) that have logged "model ready" so far."""
        return {line["pid"] for line in self.json_lines() if line["message"] == "model ready"}

    def wait_for_workers(self, count: int, timeout: float = 60) -> set[int]:
        """The pids of ``count`` workers, once each has logged "model ready"."""
        return self.eventually(
            lambda: pids if len(pids := self.ready_pids()) >= count else None,
            f"{count} workers ready",
            timeout,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def json_lines(self) -> list[dict[str, Any]]:
        lines = [line for line in self.log().splitlines() if line.startswith("{")]
        return [json.loads(line) for line in lines]

    def close(self) -> None:
        """Stop uvicorn and every worker it started (a killed supervisor orphans its workers)."""
        self.http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def raw_predict(customer: dict[str, Any]) -> tuple[bytes, bytes]:
    """POST /predict for ``customer`` as raw HTTP/1.1: (request line and headers, body), for
    tests that send a request part by part over a socket of their own."""
    body = json.dumps(customer).encode()
    head = (
        "POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head, body
