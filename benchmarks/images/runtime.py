"""An image at run time: cold starts, the running processes' uids and memory, health, stop."""

from __future__ import annotations

import datetime
import time

from bankchurn.schema import EXAMPLE_CUSTOMER
from benchmarks.containers import Containers, time_to_answer
from benchmarks.images.catalogue import HEALTHY_TIMEOUT, PREDICTS, READY_TIMEOUT, Image, Result
from benchmarks.loopback import http_status
from tooling.docker import docker
from tooling.net import wait_until


def ready(url: str) -> bool:
    return http_status("GET", url + "/ready") == 200


def processes(name: str) -> tuple[str, float]:
    """Distinct uids of the container's processes and their summed RSS in MiB (docker top)."""
    rows = docker("top", name, "-o", "pid,uid,rss").stdout.splitlines()[1:]
    uids = sorted({row.split()[1] for row in rows}, key=int)
    return ",".join(uids), sum(int(row.split()[2]) for row in rows) / 1024


def process_started(name: str) -> float:
    """When the daemon started the container's process (.State.StartedAt), as a Unix time."""
    started_at = docker("inspect", "--format", "{{.State.StartedAt}}", name).stdout.strip()
    return datetime.datetime.fromisoformat(started_at).timestamp()


def cgroup_memory(name: str) -> str:
    usage = docker("stats", "--no-stream", "--format", "{{.MemUsage}}", name).stdout
    return usage.split("/")[0].strip()


def measure_runtime(image: Image, result: Result, runs: int, containers: Containers) -> None:
    """`runs` cold starts; the first container also gives user, memory, health and stop."""
    for run in range(runs):
        container = containers.start(image.tag, image.run_options)
        name, url = container.name, container.url
        result.starts.append(time_to_answer(container, ready, interval=0.05, timeout=READY_TIMEOUT))
        result.docker_shares.append(process_started(name) - container.started_wall)
        if run == 0:
            time.sleep(1.0)  # let start-up work that follows /ready settle
            result.uids, result.rss_idle = processes(name)
            result.cgroup_idle = cgroup_memory(name)
            result.predicts_ok = sum(
                http_status("POST", url + "/predict", EXAMPLE_CUSTOMER) == 200
                for _ in range(PREDICTS)
            )
            result.rss_after = processes(name)[1]
            result.cgroup_after = cgroup_memory(name)
            result.healthy = wait_healthy(name, container.started) if result.healthcheck else "-"
            stop_started = time.monotonic()
            docker("stop", "-t", "10", name, timeout=60)
            result.stop_seconds = time.monotonic() - stop_started
            result.exit_code = docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout
        containers.remove(name)


def wait_healthy(name: str, started: float) -> str:
    template = "{{.State.Health.Status}}"

    def verdict() -> str | None:
        status = docker("inspect", "--format", template, name).stdout.strip()
        if status == "healthy":
            return f"yes, {time.monotonic() - started:.0f} s"
        return "no: unhealthy" if status == "unhealthy" else None

    found = wait_until(verdict, timeout=HEALTHY_TIMEOUT, interval=0.5, since=started)
    return found or f"no: not healthy within {HEALTHY_TIMEOUT:.0f} s"
