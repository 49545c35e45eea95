"""The compose stack end to end, offline: mlflow, train, api and prometheus from docker-compose.yml.

What runs: docker-compose.yml itself under Compose v2 (`docker compose`, as users run it),
under a unique project name, ports on random 127.0.0.1 ports, every volume removed at
the end (`down -v`) even when a test fails. The API image is BUILT by `docker compose up`
from docker/Dockerfile.production, as on a fresh clone, under a throwaway tag (so the tag
is missing and compose must build it), with the build args scripts/images/build.sh used
(.cache/images/build-args: the local stand-in bases and the loopback wheelhouse; BuildKit
then reuses `make images`' layers). BANKCHURN_API_IMAGE, when set, names an image to run
instead. The others come from MLFLOW_IMAGE / TRAIN_IMAGE / PROMETHEUS_IMAGE or, when unset,
from .cache/compose/standins.env written by scripts/compose/standins.sh (MLflow built from
PyPI, Prometheus from Debian's package, the training image from docker/Dockerfile.train).
A missing engine, tool or image FAILS the tests, never skips them.

Grafana is not started: no Grafana image or binary is reachable where CI runs. Its
provisioning and dashboard are checked statically (test_grafana.py, and
test_metrics_contract.py against the metrics the app really exports).

The tests share one stack (the session's ``stack`` fixture, tests/compose/conftest.py and
stack.py) and run in file order: this file, then test_stack_reload.py (new champions, a
signal, and last a model broken on purpose). Logs of the last run: .cache/compose/e2e-last.log.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

import httpx
import pytest

from bankchurn.schema import EXAMPLE_CUSTOMER
from tests.compose.composetools import TEST_ENV
from tests.compose.stack import Stack, eventually
from tooling.docker import DOCKER, image_exists
from tooling.images_env import image

pytestmark = pytest.mark.docker


def test_up_built_the_api_image_it_runs(stack: Stack) -> None:
    """The tag was missing, so `docker compose up` built docker/Dockerfile.production (no
    registry has it, and compose never tries to pull it) and runs exactly that image."""
    if os.environ.get("BANKCHURN_API_IMAGE"):
        pytest.fail("BANKCHURN_API_IMAGE is set: this run served a given image, built nothing")
    built = subprocess.run(
        [DOCKER, "image", "inspect", "--format", "{{json .}}", stack.api_image],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    image_info = json.loads(built.stdout)
    labels = image_info["Config"]["Labels"]
    assert labels["org.opencontainers.image.title"] == "bankchurn"
    assert "production: distroless" in labels["org.opencontainers.image.description"]
    assert image_info["Config"]["User"] == "65532:65532"
    container = stack.compose("ps", "-q", "api").stdout.strip()
    running = subprocess.run(
        [DOCKER, "inspect", "--format", "{{.Image}}", container],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert running.stdout.strip() == image_info["Id"]
    assert "pull access denied" not in stack.up_output


def test_the_api_turns_healthy_by_its_images_own_probe(stack: Stack) -> None:
    """Compose sets no healthcheck for the api, so Docker runs the image's HEALTHCHECK
    (docker/healthcheck.py: GET /ready) and the container turns healthy."""
    container = stack.compose("ps", "-q", "api").stdout.strip()

    def inspect(template: str) -> str:
        found = subprocess.run(
            [DOCKER, "inspect", "--format", template, container],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return found.stdout.strip()

    probe = json.loads(inspect("{{json .Config.Healthcheck}}"))
    assert probe["Test"] == ["CMD", "/opt/venv/bin/python", "/app/healthcheck.py"]
    healthy = eventually(
        lambda: inspect("{{.State.Health.Status}}") == "healthy" or None,
        "the api container to be healthy",
        timeout=60,  # the probe runs every 10 s; /ready already answers 200
    )
    assert healthy


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


def test_an_existing_api_tag_is_used_as_it_is_never_rebuilt(tmp_path: Path) -> None:
    """With bankchurn:production already there (`make images`), `up` creates the api from it
    and builds nothing: here a build could not even start (its base image does not exist)."""
    production = image("production")
    if not image_exists(production):
        pytest.fail(f"image {production} is missing: run `make images`")
    env_file = tmp_path / "present.env"
    broken_build = {"DISTROLESS_IMAGE": "bankchurn-standin/no-such-base:none", "PIP_NO_INDEX": "1"}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in {**TEST_ENV, **broken_build}.items()))
    stack = Stack(f"bankchurnpresent{secrets.token_hex(4)}", env_file, {}, production)
    try:
        created = stack.compose("up", "--no-start", "--no-deps", "api")
        assert created.returncode == 0, created.stderr[-3000:]
        assert "Building" not in created.stdout + created.stderr
        container = stack.compose("ps", "--all", "-q", "api").stdout.strip()
        used = subprocess.run(
            [DOCKER, "inspect", "--format", "{{.Image}}", container],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        expected = subprocess.run(
            [DOCKER, "image", "inspect", "--format", "{{.Id}}", production],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert used.stdout.strip() == expected.stdout.strip()
    finally:
        stack.compose("down", "--volumes", "--remove-orphans")
