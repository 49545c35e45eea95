"""The compose stack the end-to-end tests share: started from docker-compose.yml as users
start it, under a unique project name, and removed afterwards (see test_stack.py's docstring).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.compose.composetools import COMPOSE_FILE, REPO_ROOT, TEST_ENV, compose_command
from tooling.docker import DOCKER, image_exists
from tooling.images_env import key_values
from tooling.net import free_port, wait_until
from tooling.paths import BUILD_ARGS_FILE

STANDINS_ENV = REPO_ROOT / ".cache" / "compose" / "standins.env"
LOG_FILE = REPO_ROOT / ".cache" / "compose" / "e2e-last.log"
IMAGE_VARIABLES = ("MLFLOW_IMAGE", "TRAIN_IMAGE", "PROMETHEUS_IMAGE")
SERVICES = ("mlflow", "train", "api", "prometheus")
# MLflow's first start creates its database; training takes ~30 s on 2 cores; the API build
# reuses make images' layers (seconds), or rebuilds them (~1 min) when BuildKit pruned them.
UP_TIMEOUT = 480
T = TypeVar("T")


def images() -> dict[str, str]:
    """Image per variable: the environment first, then the stand-ins file."""
    chosen: dict[str, str] = {}
    if STANDINS_ENV.is_file():
        chosen.update({k: v for k, v in key_values(STANDINS_ENV).items() if k in IMAGE_VARIABLES})
    chosen.update({key: os.environ[key] for key in IMAGE_VARIABLES if os.environ.get(key)})
    missing = [key for key in IMAGE_VARIABLES if key not in chosen]
    if missing:
        pytest.fail(f"set {', '.join(missing)} or run scripts/compose/standins.sh")
    for name in chosen.values():
        if not image_exists(name):
            pytest.fail(
                f"image {name} is missing: build it (scripts/images/build.sh for bankchurn:*, "
                "scripts/compose/standins.sh for the others)"
            )
    return chosen


def api_build_settings() -> dict[str, str]:
    """What compose needs to build the API here: build.sh's build args, as .env lines."""
    if not BUILD_ARGS_FILE.is_file():
        pytest.fail(
            f"{BUILD_ARGS_FILE} is missing: run `make images` (scripts/images/build.sh) first"
        )
    words = BUILD_ARGS_FILE.read_text().split()
    settings = dict(word.split("=", 1) for word in words[1::2] if "=" in word)
    if "--network" in words:
        settings["BANKCHURN_BUILD_NETWORK"] = words[words.index("--network") + 1]
    return settings


@contextmanager
def wheelhouse_serving(settings: dict[str, str]) -> Iterator[None]:
    """The loopback wheel server the build args name, running (started here if need be), so
    a build step that misses BuildKit's cache can still install its wheels."""
    url = settings.get("PIP_FIND_LINKS", "")
    script = REPO_ROOT / "scripts" / "images" / "wheelhouse.sh"
    if (
        not url.startswith("http://127.0.0.1:")
        or subprocess.run([script, "url"], capture_output=True, check=False).returncode == 0
    ):
        yield
        return
    port = url.rstrip("/").rsplit(":", 1)[1]
    subprocess.run(
        [script, "start"], env={**os.environ, "WHEELHOUSE_PORT": port}, check=True,
        capture_output=True,
    )  # fmt: skip
    try:
        yield
    finally:
        subprocess.run([script, "stop"], capture_output=True, check=False)


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 90.0) -> T:
    """Call ``probe`` until it returns something other than None (or fail after ``timeout``)."""
    last_error: Exception | None = None

    def attempt() -> T | None:
        nonlocal last_error
        try:
            return probe()
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as error:
            last_error = error
            return None

    result = wait_until(attempt, timeout=timeout, interval=2)
    if result is not None:
        return result
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error!r})")


@dataclass
class Stack:
    project: str
    env_file: Path
    ports: dict[str, int]
    api_image: str
    up_output: str = ""

    def compose(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [
            *compose_command(),
            "--project-name", self.project,
            "--project-directory", str(REPO_ROOT),
            "--env-file", str(self.env_file),
            "--file", str(COMPOSE_FILE),
            *args,
        ]  # fmt: skip
        # Only what compose needs: no variable of the caller's shell reaches the file. BuildKit:
        # the Dockerfiles use cache and bind mounts (Docker >= 23 enables it by default).
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DOCKER_BUILDKIT": "1"}
        if "DOCKER_HOST" in os.environ:
            env["DOCKER_HOST"] = os.environ["DOCKER_HOST"]
        return subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False,
            timeout=timeout,
        )  # fmt: skip

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def get(self, service: str, path: str, **params: str) -> httpx.Response:
        return httpx.get(self.url(service, path), params=params, timeout=10)

    def prometheus(self, query: str) -> list[dict[str, Any]]:
        response = self.get("prometheus", "/api/v1/query", query=query)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def champion(self) -> dict[str, Any]:
        response = self.get(
            "mlflow", "/api/2.0/mlflow/registered-models/alias", name="bankchurn", alias="champion"
        )
        assert response.status_code == 200, response.text
        version: dict[str, Any] = response.json()["model_version"]
        return version


@contextmanager
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """mlflow, train, api and prometheus up (api /ready); logs kept and all removed after."""
    compose_command()
    if (
        shutil.which(DOCKER) is None
        or subprocess.run([DOCKER, "info"], capture_output=True, check=False).returncode
    ):
        pytest.fail("no Docker engine answers: run scripts/images/engine.sh")
    ports = {"mlflow": free_port(), "api": free_port(), "prometheus": free_port()}
    work = tmp_path_factory.mktemp("compose-e2e")
    data_dir = work / "data"
    data_dir.mkdir()
    token = secrets.token_hex(4)
    given_api = os.environ.get("BANKCHURN_API_IMAGE")
    build = {} if given_api else api_build_settings()
    settings = {
        **TEST_ENV,
        **images(),
        **build,
        # A tag no one has: `up` must build it, as on a fresh clone.
        "BANKCHURN_API_IMAGE": given_api or f"bankchurn-compose-e2e:{token}",
        "MLFLOW_PORT": ports["mlflow"],
        "BANKCHURN_API_PORT": ports["api"],
        "PROMETHEUS_PORT": ports["prometheus"],
        "BANKCHURN_DATA_DIR": data_dir,
        # Fewer rows than the default 10,000: the same code path, half the training time.
        "BANKCHURN_SYNTH_ROWS": 4000,
    }
    env_file = work / "e2e.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    started = Stack(f"bankchurne2e{token}", env_file, ports, str(settings["BANKCHURN_API_IMAGE"]))
    try:
        with wheelhouse_serving(build):
            up = started.compose("up", "--detach", *SERVICES, timeout=UP_TIMEOUT)
        assert up.returncode == 0, f"docker compose up failed:\n{up.stderr[-3000:]}"
        started.up_output = up.stdout + up.stderr
        # `up --detach` returns once the api container started; its model loads after that.
        eventually(
            lambda: started.get("api", "/ready").status_code == 200 or None, "api /ready 200"
        )
        yield started
    finally:
        logs = started.compose("logs", "--no-color", "--timestamps")
        LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
        LOG_FILE.write_text(logs.stdout + logs.stderr)
        down = started.compose("down", "--volumes", "--remove-orphans", "--timeout", "10")
        if not given_api:  # the throwaway tag only; its layers stay in the build cache
            subprocess.run([DOCKER, "image", "rm", started.api_image], capture_output=True,
                           check=False)  # fmt: skip
        assert down.returncode == 0, down.stderr


def api_started_at(stack: Stack) -> str:
    """When the api container last started: unchanged means it was not restarted."""
    container = stack.compose("ps", "-q", "api").stdout.strip()
    state = subprocess.run(
        [DOCKER, "inspect", "--format", "{{.State.StartedAt}}", container],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return state.stdout.strip()


def served_registry_version(stack: Stack) -> str:
    return str(stack.get("api", "/model").json()["mlflow"]["registered_version"])
