"""Containers a benchmark starts, and the one way their cold start is timed.

Cold start: from just before `docker run --detach` to the first answer a caller accepts
(a 200 from /ready, or a correct prediction), polled on a random 127.0.0.1 port. Every
container is uniquely named bankchurn-bench-*, labelled, and removed by remove_all(),
also when a run fails.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchmarks.errors import BenchError
from tooling.docker import docker
from tooling.net import wait_until

START_TIMEOUT = 120.0


@dataclass(frozen=True)
class Started:
    name: str
    url: str  # http://127.0.0.1:PORT, the container's port 8000
    started: float  # time.monotonic() just before `docker run`
    started_wall: float  # time.time() then: comparable with the daemon's .State.StartedAt


class Containers:
    """Starts uniquely named, labelled containers; remove_all() removes every one of them."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.names: list[str] = []

    def start(self, image: str, options: Sequence[str] = ()) -> Started:
        name = f"bankchurn-bench-{uuid.uuid4().hex[:10]}"
        self.names.append(name)
        started, started_wall = time.monotonic(), time.time()
        docker("run", "--detach", "--name", name, "--label", self.label,
               "--publish", "127.0.0.1::8000", *options, image)  # fmt: skip
        port = docker("port", name, "8000/tcp").stdout.splitlines()[0].rsplit(":", 1)[1]
        return Started(name, f"http://127.0.0.1:{port}", started, started_wall)

    def remove(self, name: str) -> None:
        docker("rm", "--force", "--volumes", name, check=False)
        self.names.remove(name)

    def remove_all(self) -> None:
        if self.names:
            docker("rm", "--force", "--volumes", *self.names, check=False)
            self.names.clear()


def time_to_answer(
    container: Started,
    answered: Callable[[str], bool],
    *,
    interval: float,
    timeout: float = START_TIMEOUT,
) -> float:
    """Seconds from `docker run` until ``answered(url)``; fails early, with the container's
    logs, when it stops running (checked once a second)."""
    next_check = 0.0

    def probe() -> float | None:
        nonlocal next_check
        if answered(container.url):
            return time.monotonic() - container.started
        if time.monotonic() > next_check:
            running = docker("inspect", "--format", "{{.State.Running}}", container.name)
            if running.stdout.strip() != "true":
                raise BenchError(f"{container.name} stopped before answering:\n{logs(container)}")
            next_check = time.monotonic() + 1.0
        return None

    seconds = wait_until(
        probe, timeout=timeout, interval=interval, since=container.started, ignore=(OSError,)
    )
    if seconds is None:
        raise BenchError(
            f"{container.name} did not answer within {timeout:.0f} s:\n{logs(container)}"
        )
    return seconds


def logs(container: Started) -> str:
    result = docker("logs", container.name, check=False)
    return (result.stdout + result.stderr)[-2000:]
