"""The compose stack end to end, offline: mlflow, train, api and prometheus from docker-compose.yml.

What runs: docker-compose.yml itself under Compose v2 (`docker compose`, as users run it),
under a unique project name, ports on random 127.0.0.1 ports, every volume removed at
the end (`down -v`) even when a test fails. Images come from variables, as on an air-gapped
site: the API image from BANKCHURN_API_IMAGE (default bankchurn:production, built by
scripts/images/build.sh), the others from MLFLOW_IMAGE / TRAIN_IMAGE / PROMETHEUS_IMAGE or,
when unset, from .cache/compose/standins.env written by scripts/compose/standins.sh (MLflow
built from PyPI, Prometheus from Debian's package, the training image from
docker/Dockerfile.train). A missing engine, tool or image FAILS the tests, never skips them.

Grafana is not started: no Grafana image or binary is reachable where CI runs. Its
provisioning and dashboard are checked statically (test_grafana.py, and
test_metrics_contract.py against the metrics the app really exports).

The tests share one stack and run in file order; the last one breaks the model on purpose.
Logs of the last run: .cache/compose/e2e-last.log.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from composetools import COMPOSE_FILE, REPO_ROOT, TEST_ENV, compose_command

from bankchurn.schema import EXAMPLE_CUSTOMER

pytestmark = pytest.mark.docker

DOCKER = "/usr/bin/docker"
STANDINS_ENV = REPO_ROOT / ".cache" / "compose" / "standins.env"
IMAGES_ENV = REPO_ROOT / "scripts" / "images" / "images.env"  # the API images' names
LOG_FILE = REPO_ROOT / ".cache" / "compose" / "e2e-last.log"
IMAGE_VARIABLES = ("BANKCHURN_API_IMAGE", "MLFLOW_IMAGE", "TRAIN_IMAGE", "PROMETHEUS_IMAGE")
SERVICES = ("mlflow", "train", "api", "prometheus")
UP_TIMEOUT = 360  # MLflow's first start creates its database; training takes ~30 s on 2 cores
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def key_values(path: Path) -> dict[str, str]:
    pairs = (line.partition("=") for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, _, value in pairs if not key.startswith("#")}


def images() -> dict[str, str]:
    """Image per variable: the environment first, then the stand-ins file and images.env."""
    chosen = {"BANKCHURN_API_IMAGE": key_values(IMAGES_ENV)["BANKCHURN_IMAGE_PRODUCTION"]}
    if STANDINS_ENV.is_file():
        chosen.update({k: v for k, v in key_values(STANDINS_ENV).items() if k in IMAGE_VARIABLES})
    chosen.update({key: os.environ[key] for key in IMAGE_VARIABLES if os.environ.get(key)})
    missing = [key for key in IMAGE_VARIABLES if key not in chosen]
    if missing:
        pytest.fail(f"set {', '.join(missing)} or run scripts/compose/standins.sh")
    for image in chosen.values():
        found = subprocess.run(
            [DOCKER, "image", "inspect", image], capture_output=True, check=False
        )
        if found.returncode != 0:
            pytest.fail(
                f"image {image} is missing: build it (scripts/images/build.sh for bankchurn:*, "
                "scripts/compose/standins.sh for the others)"
            )
    return chosen


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 90.0) -> T:
    """Call ``probe`` until it returns something other than None (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as error:
            last_error, result = error, None
        if result is not None:
            return result
        time.sleep(2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error!r})")


@dataclass
class Stack:
    project: str
    env_file: Path
    ports: dict[str, int]

    def compose(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [
            *compose_command(),
            "--project-name", self.project,
            "--project-directory", str(REPO_ROOT),
            "--env-file", str(self.env_file),
            "--file", str(COMPOSE_FILE),
            *args,
        ]  # fmt: skip
        # Only what compose needs: no variable of the caller's shell reaches the file.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
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


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
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
    settings = {
        **TEST_ENV,
        **images(),
        "MLFLOW_PORT": ports["mlflow"],
        "BANKCHURN_API_PORT": ports["api"],
        "PROMETHEUS_PORT": ports["prometheus"],
        "BANKCHURN_DATA_DIR": data_dir,
        # Fewer rows than the default 10,000: the same code path, half the training time.
        "BANKCHURN_SYNTH_ROWS": 4000,
    }
    env_file = work / "e2e.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    started = Stack(f"bankchurne2e{secrets.token_hex(4)}", env_file, ports)
    try:
        up = started.compose("up", "--detach", "--no-build", *SERVICES, timeout=UP_TIMEOUT)
        assert up.returncode == 0, f"docker compose up failed:\n{up.stderr[-3000:]}"
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
        assert down.returncode == 0, down.stderr


def test_train_job_registers_a_champion_and_exits_zero(stack: Stack) -> None:
    # v2 lists exited containers only with --all.
    container = stack.compose("ps", "--all", "-q", "train").stdout.strip()
    state = subprocess.run(
        [DOCKER, "inspect", "--format", "{{json .State}}", container],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(state.stdout)["ExitCode"] == 0
    champion = stack.champion()
    assert champion["version"] == "1"
    assert champion["status"] == "READY"
    assert {"key": "champion_decision", "value": "promoted"} in champion["tags"]


def test_api_serves_exactly_the_registered_champion(stack: Stack) -> None:
    champion = stack.champion()
    run = stack.get("mlflow", "/api/2.0/mlflow/runs/get", run_id=champion["run_id"]).json()
    run_tags = {tag["key"]: tag["value"] for tag in run["run"]["data"]["tags"]}

    ready = stack.get("api", "/ready").json()
    card = stack.get("api", "/model")
    assert card.status_code == 200, card.text
    served = card.json()
    assert served["mlflow"]["registered_version"] == champion["version"]
    assert served["mlflow"]["run_id"] == champion["run_id"]
    assert "champion" in served["mlflow"]["aliases"]
    assert served["model_version"] == run_tags["model_version"] == ready["model_version"]


def test_prometheus_scrapes_the_api_and_sees_its_traffic(stack: Stack) -> None:
    for _ in range(5):
        response = httpx.post(stack.url("api", "/predict"), json=EXAMPLE_CUSTOMER, timeout=10)
        assert response.status_code == 200, response.text
    batch = {"customers": [EXAMPLE_CUSTOMER, {**EXAMPLE_CUSTOMER, "age": 61}]}
    assert httpx.post(stack.url("api", "/predict/batch"), json=batch, timeout=10).status_code == 200

    up = eventually(
        lambda: stack.prometheus('up{job="bankchurn-api"} == 1') or None, "the api target up"
    )
    assert up[0]["metric"]["instance"] == "api:8000"
    scored = eventually(
        lambda: (
            [
                row
                for row in stack.prometheus('sum(bankchurn_predictions_total{job="bankchurn-api"})')
                if float(row["value"][1]) >= 7
            ]
            or None
        ),
        "7 scored customers in Prometheus",
    )
    assert scored
    # What the dashboard's CPU and memory panels query exists for the api.
    for metric in ("process_resident_memory_bytes", "process_cpu_seconds_total"):
        assert stack.prometheus(f'{metric}{{job="bankchurn-api"}}'), metric
    rules = stack.get("prometheus", "/api/v1/rules").json()["data"]["groups"]
    loaded = {rule["name"] for group in rules for rule in group["rules"]}
    assert {"BankchurnModelNotReady", "BankchurnScoreDrift"} <= loaded


def test_retraining_on_the_same_data_keeps_the_champion(stack: Stack) -> None:
    """Champion/challenger: same data and seed give the same score, which is not strictly
    better, so version 2 is registered as a challenger and version 1 stays champion."""
    rerun = stack.compose("run", "--rm", "train", timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "version 2, kept as challenger" in rerun.stdout
    assert "champion (version 1) published" in rerun.stdout
    assert stack.champion()["version"] == "1"
    challenger = stack.get("mlflow", "/api/2.0/mlflow/model-versions/get", name="bankchurn",
                           version="2").json()["model_version"]  # fmt: skip
    assert {"key": "champion_decision", "value": "kept as challenger"} in challenger["tags"]


def test_a_champion_moved_by_hand_is_published_and_served(stack: Stack) -> None:
    """Rollback/manual promotion: move the alias, `train --export-only`, restart the api."""
    moved = httpx.post(
        stack.url("mlflow", "/api/2.0/mlflow/registered-models/alias"),
        json={"name": "bankchurn", "alias": "champion", "version": "2"},
        timeout=10,
    )
    assert moved.status_code == 200, moved.text
    export = stack.compose("run", "--rm", "train", "--export-only", timeout=180)
    assert export.returncode == 0, export.stderr[-3000:]
    assert "champion (version 2) published" in export.stdout
    assert "MLflow run" not in export.stdout  # nothing was trained
    assert stack.compose("restart", "api").returncode == 0
    served = eventually(
        lambda: stack.get("api", "/model").json()["mlflow"]["registered_version"] == "2" or None,
        "the api to serve version 2",
    )
    assert served


def test_a_tampered_model_makes_the_api_unready_and_the_alert_fire(stack: Stack) -> None:
    # The train service mounts the models volume read-write; the api mounts it read-only.
    # Every artifact (model.joblib, model.onnx): the image chooses the backend that loads one.
    tamper = stack.compose(
        "run", "--rm", "--no-deps", "--entrypoint", "python", "train", "-c",
        "import glob\nfor path in glob.glob('/models/champion/model.*'):\n"
        "    open(path, 'ab').write(b'tampered')",
    )  # fmt: skip
    assert tamper.returncode == 0, tamper.stderr
    assert stack.compose("restart", "api").returncode == 0

    def refused() -> dict[str, Any] | None:
        response = stack.get("api", "/ready")
        body: dict[str, Any] = response.json()
        settled = response.status_code == 503 and body["error"]["reason"] != "loading"
        return body if settled else None

    body = eventually(refused, "api /ready to refuse the tampered model")
    assert body["error"]["reason"] == "checksum_mismatch"
    eventually(
        lambda: stack.prometheus('bankchurn_model_ready{job="bankchurn-api"} == 0') or None,
        "bankchurn_model_ready 0 in Prometheus",
    )

    def alert() -> dict[str, Any] | None:
        alerts = stack.get("prometheus", "/api/v1/alerts").json()["data"]["alerts"]
        found = [a for a in alerts if a["labels"]["alertname"] == "BankchurnModelNotReady"]
        return found[0] if found else None

    # Pending at the first evaluation, firing after the rule's `for: 2m`; either proves it.
    assert eventually(alert, "BankchurnModelNotReady")["state"] in {"pending", "firing"}
