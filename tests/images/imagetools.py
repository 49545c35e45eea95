"""Helpers for the image tests: the docker client, HTTP on loopback, containers that clean up.

Image names come from scripts/images/images.env, the one place scripts read them from too.
A missing engine or image is a test failure (``pytest.fail``), never a skip.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGES_ENV = REPO_ROOT / "scripts" / "images" / "images.env"
# Debian's client: it drives the engine's BuildKit (the Docker 28 client here has no buildx).
DOCKER = "/usr/bin/docker"
LABEL = "bankchurn-image-tests"
READY_TIMEOUT_SECONDS = 60.0
# The hardened way levels 2 and production must run: nothing writable, no capabilities, no setuid.
HARDENED = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]


def _read_images() -> dict[str, str]:
    names = {}
    for line in IMAGES_ENV.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            names[key.removeprefix("BANKCHURN_IMAGE_").lower()] = value.strip()
    return names


IMAGES: dict[str, str] = _read_images()  # {"level1": "bankchurn:level1", ...}
NON_ROOT_UIDS = {"level2": 10001, "production": 65532}


def docker(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the docker client; a failure is a test failure, with docker's own message."""
    try:
        result = subprocess.run(
            [DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        pytest.fail(f"{DOCKER} not found: run scripts/images/engine.sh (installs docker.io)")
    if check and result.returncode != 0:
        pytest.fail(f"docker {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


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
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            try:
                if self.get("/ready")[0] == 200:
                    return time.monotonic() - self.started
            except OSError:  # not listening yet
                pass
            if self.inspect("{{.State.Running}}") != "true":
                break
            time.sleep(0.05)
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
