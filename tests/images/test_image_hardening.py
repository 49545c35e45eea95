"""Levels 2 and production: non-root, healthy by their own HEALTHCHECK, hardened, graceful stop."""

from __future__ import annotations

import time

import pytest

from tests.images.imagetools import IMAGES, NON_ROOT_UIDS, Container, Containers, docker
from tooling.docker import HARDENED
from tooling.net import wait_until

pytestmark = pytest.mark.docker
HARDENED_LEVELS = ["level2", "production"]
# Engine 20.10 has no --start-interval: the first probe runs one --interval (10 s) after start.
HEALTHY_TIMEOUT_SECONDS = 40.0
STOP_GRACE_SECONDS = 10


def process_uids(container: Container) -> list[int]:
    """Real and effective uids of every process in the container, read by the engine."""
    rows = docker("top", container.id, "-o", "pid,uid,euid,args").stdout.splitlines()[1:]
    uids = []
    for row in rows:
        _, uid, euid, _ = row.split(None, 3)
        uids += [int(uid), int(euid)]
    return uids


@pytest.mark.parametrize("level", HARDENED_LEVELS)
def test_server_runs_as_its_fixed_non_root_uid(served: dict[str, Container], level: str):
    uids = process_uids(served[level])

    assert uids, "no process found"
    assert set(uids) == {NON_ROOT_UIDS[level]}


@pytest.mark.parametrize("level", HARDENED_LEVELS)
def test_runs_with_read_only_root_no_capabilities_no_new_privileges(
    served: dict[str, Container], level: str
):
    container = served[level]

    assert container.inspect("{{.HostConfig.ReadonlyRootfs}}") == "true"
    assert container.inspect("{{.HostConfig.CapDrop}}") == "[ALL]"
    assert "no-new-privileges" in container.inspect("{{.HostConfig.SecurityOpt}}")
    assert container.get("/ready")[0] == 200


@pytest.mark.parametrize("level", HARDENED_LEVELS)
def test_healthcheck_of_the_image_reports_healthy(served: dict[str, Container], level: str):
    container = served[level]
    budget = max(HEALTHY_TIMEOUT_SECONDS - (time.monotonic() - container.started), 1)

    status = wait_until(
        lambda: "healthy" if container.inspect("{{.State.Health.Status}}") == "healthy" else None,
        timeout=budget,
        interval=0.5,
    )

    assert status == "healthy", container.inspect("{{json .State.Health}}")


@pytest.mark.parametrize("level", HARDENED_LEVELS)
def test_sigterm_stops_gracefully_within_the_grace_period(containers: Containers, level: str):
    container = containers.run(IMAGES[level], *HARDENED)
    container.wait_ready()

    started = time.monotonic()
    docker("stop", "--time", str(STOP_GRACE_SECONDS), container.id)
    elapsed = time.monotonic() - started

    assert elapsed < STOP_GRACE_SECONDS, f"took {elapsed:.1f} s: SIGTERM was not handled"
    logs = container.logs()
    assert "Application shutdown complete" in logs, logs[-2000:]
    # uvicorn re-raises SIGTERM after a clean shutdown: 143 (128 + 15) is the expected exit code.
    assert container.inspect("{{.State.ExitCode}}") in {"0", "143"}
