"""The production image loses nothing it accepted under ``docker stop``, and exits 0.

The same test as tests/api/test_shutdown_under_load.py (keep-alive, pooled and
per-request clients, ~180 predictions/s; tests/shutdown_load.py; ten runs, the last four
with two CPU-burning neighbours), with ``docker stop`` sending the SIGTERM. The
container uses the host's network on a free loopback port, so the clients talk to the
service itself and not to docker-proxy (which accepts connections on the service's
behalf and would blur what the service accepted).
The drain is shortened to 0.5 s to keep each run to a few seconds.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from bankchurn.schema import EXAMPLE_CUSTOMER
from tests.images.imagetools import IMAGES, LABEL, docker, require_image
from tests.shutdown_load import (
    RATE,
    RunResult,
    cpu_burners,
    predict_ids,
    run_through_shutdown,
    summary,
)
from tooling.docker import HARDENED
from tooling.net import free_port, wait_until

pytestmark = pytest.mark.docker

RUNS = 10
BUSY_RUNS = range(6, RUNS)  # these runs have CPU-burning neighbours
CUSTOMER = dict(EXAMPLE_CUSTOMER)
results: list[RunResult] = []


def _logs(name: str) -> list[dict[str, Any]]:
    result = docker("logs", name, check=False)
    lines = (result.stdout + result.stderr).splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


@pytest.mark.parametrize("run", range(RUNS))
def test_docker_stop_under_load_loses_no_accepted_request(run: int) -> None:
    image = IMAGES["production"]
    require_image(image)
    port, name = free_port(), f"bankchurn-test-{uuid.uuid4().hex[:10]}"
    docker("run", "--detach", "--name", name, "--label", LABEL, "--network", "host",
           "-e", "BANKCHURN_DRAIN_SECONDS=0.5", *HARDENED, image,
           "app.fastapi_app:app", "--host", "127.0.0.1", "--port", str(port),
           "--no-access-log")  # fmt: skip
    try:
        ready = wait_until(
            lambda: any(line.get("message") == "model ready" for line in _logs(name)) or None,
            timeout=60,
            interval=0.1,
        )
        assert ready, _logs(name)[-20:]
        with cpu_burners(2 if run in BUSY_RUNS else 0):
            result = run_through_shutdown(
                "127.0.0.1",
                port,
                CUSTOMER,
                stop_server=lambda: docker("stop", "--time", "20", name),
                wait_exit=lambda: int(docker("wait", name).stdout.strip()),
                logged_ids=lambda: predict_ids(_logs(name)),
            )
        results.append(result)
        print(f"docker run {run}: {result}")
        messages = [line.get("message") for line in _logs(name)]
    finally:
        docker("rm", "--force", name, check=False)
    assert result.lost_total == 0, result
    assert result.exit_code == 0, result
    assert result.answered_unlogged == 0, result
    assert result.ok >= RATE * 0.75, result
    assert "SIGTERM: draining" in messages
    assert "Application shutdown complete." in messages
    assert result.shutdown_seconds < 10, result


def test_docker_stop_runs_add_up() -> None:
    assert len(results) == RUNS, "run the module whole: the runs above feed this summary"
    print(f"docker stop: {summary(results)}")
    assert sum(result.lost_total for result in results) == 0
