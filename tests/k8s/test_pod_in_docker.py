"""The production image runs the way the pod spec runs it, in a real container.

No cluster here, so the container gets the rendered pod's settings by hand: its uid/gid,
read-only root, no capabilities, no privilege escalation, the /tmp emptyDir as a tmpfs of
the same size, the same environment, and the CPU and memory limits. It must answer the
probes within the startup budget, serve maximal batches inside the memory limit, and
exit cleanly within the drain budget after SIGTERM.

Marked docker, like tests/images: it needs the engine and bankchurn:production (make images)
and FAILS, never skips, without them.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from app.settings import Settings
from bankchurn.schema import EXAMPLE_CUSTOMER
from tests.k8s.k8stools import (
    Manifest,
    container,
    millicores,
    pod_spec,
    quantity_mib,
    security,
)
from tooling import docker as client
from tooling.docker import DockerError
from tooling.images_env import image as image_name
from tooling.net import wait_until

pytestmark = pytest.mark.docker

MAX_BATCH = Settings.model_fields["max_batch"].default
BATCHES = 5


def docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The client's result, checked by the caller; a missing client is a test failure."""
    try:
        return client.docker(*args, check=False, timeout=timeout)
    except DockerError as error:
        pytest.fail(str(error))


def run_options(objects: list[Manifest]) -> list[str]:
    """`docker run` options equivalent to the rendered pod's API container."""
    spec, api = pod_spec(objects), container(objects)
    settings = security(objects, api)
    assert settings["readOnlyRootFilesystem"] is True
    assert settings["capabilities"] == {"drop": ["ALL"]}
    limits = api["resources"]["limits"]
    options = [
        f"--user={settings['runAsUser']}:{settings['runAsGroup']}",
        "--read-only",
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        f"--cpus={millicores(limits['cpu']) / 1000}",
        f"--memory={quantity_mib(limits['memory']):.0f}m",
        # No swap, as on a node: swapping would hide an exceeded limit.
        f"--memory-swap={quantity_mib(limits['memory']):.0f}m",
        f"--publish=127.0.0.1::{api['ports'][0]['containerPort']}",
    ]
    volumes = {volume["name"]: volume["emptyDir"] for volume in spec["volumes"]}
    for mount in api["volumeMounts"]:
        size = quantity_mib(volumes[mount["name"]]["sizeLimit"])
        options.append(f"--tmpfs={mount['mountPath']}:size={size:.0f}m")
    options += [f"--env={item['name']}={item['value']}" for item in api["env"]]
    return options


@dataclass
class Pod:
    id: str
    url: str
    started: float

    def state(self, field: str) -> str:
        return docker("inspect", "--format", f"{{{{.State.{field}}}}}", self.id).stdout.strip()

    def logs(self) -> str:
        result = docker("logs", self.id)
        return (result.stdout + result.stderr)[-3000:]


@pytest.fixture(scope="module")
def pod(rendered: dict[str, list[Manifest]]) -> Iterator[Pod]:
    if docker("info").returncode != 0:
        pytest.fail("no Docker engine answers (run scripts/images/engine.sh)")
    image = image_name("production")
    if docker("image", "inspect", image).returncode != 0:
        pytest.fail(f"{image} is missing: build it with `make images`")
    name = f"bankchurn-k8s-test-{uuid.uuid4().hex[:10]}"
    started = time.monotonic()
    result = docker("run", "--detach", f"--name={name}", *run_options(rendered["base"]), image)
    if result.returncode != 0:
        pytest.fail(f"docker run failed:\n{result.stderr}")
    try:
        port = docker("port", name).stdout.split(":")[-1].strip()
        yield Pod(name, f"http://127.0.0.1:{port}", started)
    finally:
        docker("rm", "--force", name)


def seconds_until_ok(pod: Pod, path: str, budget: float) -> float:
    """Seconds from `docker run` until GET path answered 200; fails with the logs after budget."""

    def ok() -> float | None:
        if httpx.get(pod.url + path, timeout=1).status_code == 200:
            return time.monotonic() - pod.started
        return None

    # TransportError: not listening yet.
    seconds = wait_until(
        ok, timeout=budget, interval=0.05, since=pod.started, ignore=(httpx.TransportError,)
    )
    if seconds is not None:
        return seconds
    pytest.fail(f"GET {path} not 200 within {budget} s; logs:\n{pod.logs()}")


def startup_budget(objects: list[Manifest]) -> int:
    probe = container(objects)["startupProbe"]
    return int(probe["periodSeconds"] * probe["failureThreshold"])


def test_the_pod_answers_its_probes_within_the_startup_budget(
    pod: Pod, rendered: dict[str, list[Manifest]]
) -> None:
    api = container(rendered["base"])
    budget = startup_budget(rendered["base"])
    seconds_until_ok(pod, api["startupProbe"]["httpGet"]["path"], budget)
    seconds_until_ok(pod, api["readinessProbe"]["httpGet"]["path"], budget)


def test_the_pod_serves_maximal_batches_within_its_memory_limit(
    pod: Pod, rendered: dict[str, list[Manifest]]
) -> None:
    seconds_until_ok(pod, "/ready", startup_budget(rendered["base"]))
    customers = [{**EXAMPLE_CUSTOMER, "id": f"customer-{index:06d}"} for index in range(MAX_BATCH)]
    for _ in range(BATCHES):
        response = httpx.post(pod.url + "/predict/batch", json={"customers": customers}, timeout=30)
        assert response.status_code == 200, response.text
        assert len(response.json()["predictions"]) == MAX_BATCH
    assert pod.state("OOMKilled") == "false"
    assert pod.state("Running") == "true", pod.logs()


def test_the_pod_drains_and_exits_cleanly_within_its_grace_period(
    pod: Pod, rendered: dict[str, list[Manifest]]
) -> None:
    """What the kubelet does after preStop: SIGTERM, then SIGKILL when the rest of the grace
    period is over. `docker stop -t` does the same."""
    spec = pod_spec(rendered["base"])
    pre_stop = container(rendered["base"])["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = spec["terminationGracePeriodSeconds"] - pre_stop
    stopping = time.monotonic()
    docker("stop", f"--time={drain}", pod.id, timeout=drain + 30)
    took = time.monotonic() - stopping
    assert pod.state("ExitCode") == "0", pod.logs()
    assert took < drain, f"took {took:.1f} s: SIGKILL, not a drain"
