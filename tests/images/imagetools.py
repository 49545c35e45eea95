"""Helpers for the image tests: the docker client, HTTP on loopback, containers that clean up.

Image names come from scripts/images/images.env, the one place scripts read them from too.
A missing engine or image is a test failure (``pytest.fail``), never a skip.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from subprocess import CompletedProcess
from typing import Any

import pytest

from tooling import docker as client
from tooling.docker import HARDENED, DockerError
from tooling.images_env import image_names
from tooling.net import wait_until

LABEL = "bankchurn-image-tests"
READY_TIMEOUT_SECONDS = 60.0
IMAGES: dict[str, str] = image_names()  # {"level1": "bankchurn:level1", ...}
NON_ROOT_UIDS = {"level2": 10001, "production": 65532}


def docker(*args: str, check: bool = True, timeout: float = 120) -> CompletedProcess[str]:
    """Run the docker client; a failure is a test failure, with docker's own message."""
    try:
        return client.docker(*args, check=check, timeout=timeout)
    except DockerError as error:
        pytest.fail(str(error))


def run_options(level: str) -> list[str]:
    """Level 1 runs as it is written; the others run hardened (single worker: no tmpfs needed)."""
    return [] if level == "level1" else list(HARDENED)


def http(
    method: str, url: str, body: Any = None, timeout: float = 10
) -> tuple[int, bytes, dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


@dataclass
class Container:
    """One running container of an image, reached on a random 127.0.0.1 port."""

    image: str
    id: str
    port: int
    started: float = field(default_factory=time.monotonic)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> tuple[int, bytes]:
        status, body, _ = http("GET", self.url + path)
        return status, body

    def post(self, path: str, payload: Any) -> tuple[int, Any]:
        status, body, _ = http("POST", self.url + path, payload)
        return status, json.loads(body)

    def logs(self) -> str:
        result = docker("logs", self.id, check=False)
        return result.stdout + result.stderr

    def inspect(self, template: str) -> str:
        return docker("inspect", "--format", template, self.id).stdout.strip()

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> float:
        """Seconds from `docker run` until GET /ready answered 200; fails with the logs."""

        def ready() -> float | str | None:
            """Seconds once ready; "exited" when it never will be; None: not yet."""
            if self.get("/ready")[0] == 200:
                return time.monotonic() - self.started
            return "exited" if self.inspect("{{.State.Running}}") != "true" else None

        # OSError: not listening yet.
        found = wait_until(
            ready, timeout=timeout, interval=0.05, since=self.started, ignore=(OSError,)
        )
        if isinstance(found, float):
            return found
        pytest.fail(f"{self.image} not ready after {timeout} s; logs:\n{self.logs()[-3000:]}")


class Containers:
    """Starts containers and removes every one of them at teardown, even after failures."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def run(self, image: str, *options: str, command: tuple[str, ...] = ()) -> Container:
        require_image(image)
        name = f"bankchurn-test-{uuid.uuid4().hex[:10]}"
        self.ids.append(name)
        started = time.monotonic()
        result = docker(
            "run", "--detach", "--name", name, "--label", LABEL, "--publish", "127.0.0.1::8000",
            *options, image, *command,
        )  # fmt: skip
        container_id = result.stdout.strip()
        port = docker("port", container_id, "8000/tcp").stdout.splitlines()[0].rsplit(":", 1)[1]
        return Container(image, container_id, int(port), started)

    def remove_all(self) -> None:
        if self.ids:
            docker("rm", "--force", "--volumes", *self.ids, check=False)
            self.ids.clear()


def require_image(image: str) -> None:
    if docker("image", "inspect", image, check=False).returncode != 0:
        pytest.fail(f"image {image} is missing: build it with scripts/images/build.sh all")
