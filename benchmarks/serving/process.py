"""A contestant's server process: started pinned to a core, polled for its first answer,
measured (RSS and PSS over its process tree), stopped with its whole process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from benchmarks.errors import BenchError
from benchmarks.loopback import post
from benchmarks.serving.contestant import Contestant
from benchmarks.serving.payload import Payload
from tooling.net import free_port, wait_until

# Ray Serve takes the longest: a local cluster, then its controller, proxy and replica
# (18 s and 66 s to a first answer on this 2-core VM, both while other work loaded it).
START_TIMEOUT = 180.0
MIB = 1024 * 1024


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, from /proc."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                pending.extend(int(child) for child in (task / "children").read_text().split())
    return found


def memory_mib(pid: int) -> dict[str, float]:
    """RSS and PSS summed over the process tree. PSS splits shared pages between the
    processes that map them, so a forking server is not counted twice for its libraries."""
    kib = {"Rss": 0, "Pss": 0}
    for member in tree(pid):
        with contextlib.suppress(OSError):  # a process that exited meanwhile
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in kib:
                    kib[key] += int(value.split()[0])
    return {key.lower(): round(total * 1024 / MIB, 1) for key, total in kib.items()}


def first_answer(
    url: str, body: bytes, started: float, what: str, exited: Callable[[], str | None]
) -> float:
    """Seconds from ``started`` to the first 200 to ``body`` at ``url``, polled every 10 ms.

    ``exited`` says why the server is gone (it then cannot answer), or None while it runs."""

    def answered() -> float | None:
        gone = exited()
        if gone is not None:
            raise BenchError(f"{what} {gone}")
        status, _ = post(url, body, timeout=2.0)
        return time.monotonic() - started if status == 200 else None

    seconds = wait_until(answered, timeout=START_TIMEOUT, interval=0.01, since=started)
    if seconds is None:
        raise BenchError(f"{what} did not answer within {START_TIMEOUT:.0f} s")
    return seconds


class Server:
    """One contestant's server process, pinned to a core, stopped (whole group) on exit."""

    def __init__(self, contestant: Contestant, cpu: int, workdir: Path, log: Path) -> None:
        self.contestant = contestant
        self.cpu = cpu
        self.workdir = workdir
        self.log = log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> float:
        """Start the server; returns time.monotonic() at the start."""
        if self.contestant.prepare is not None:
            self.contestant.prepare(self.workdir, self.port)
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            **self.contestant.env,
            **(self.contestant.workdir_env(self.workdir) if self.contestant.workdir_env else {}),
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.pop("WEB_CONCURRENCY", None)
        command = [
            "taskset",
            "-c",
            str(self.cpu),
            *self.contestant.command(self.port, self.workdir),
        ]
        started = time.monotonic()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.contestant.cwd,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        return started

    def wait_answering(self, payload: Payload, started: float) -> float:
        """Seconds from ``started`` to the first 200 answer to ``payload``."""
        return first_answer(
            self.url(payload.path), payload.body, started, self.contestant.name, self._exited
        )

    def _exited(self) -> str | None:
        if self.process is None:
            return "was never started"
        code = self.process.poll()
        if code is None:
            return None
        tail = self.log.read_text(errors="replace").splitlines()[-15:]
        return f"exited ({code}) before answering; the end of its output:\n  " + "\n  ".join(tail)

    @property
    def pid(self) -> int:
        if self.process is None:
            raise BenchError(f"{self.contestant.name} was never started")
        return self.process.pid

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # Ray's actors run in process groups of their own: found now, killed last.
        members = tree(self.process.pid)
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):  # children that outlived the leader
            os.killpg(self.process.pid, signal.SIGKILL)
        for member in members[1:]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGKILL)


@contextlib.contextmanager
def running(contestant: Contestant, cpu: int, scratch: Path) -> Iterator[tuple[Server, float]]:
    workdir = Path(tempfile.mkdtemp(prefix=f"{contestant.name}-", dir=scratch))
    server = Server(contestant, cpu, workdir, scratch / f"{contestant.name}.log")
    started = server.start()
    try:
        yield server, started
    finally:
        server.stop()
