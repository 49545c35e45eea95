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

The tests share one stack and run in file order; the last one breaks the model on purpose.
Logs of the last run: .cache/compose/e2e-last.log.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from bankchurn.schema import EXAMPLE_CUSTOMER
from tests.compose.composetools import COMPOSE_FILE, REPO_ROOT, TEST_ENV, compose_command
from tooling.docker import DOCKER, image_exists
from tooling.images_env import image, key_values
from tooling.net import free_port, wait_until

pytestmark = pytest.mark.docker

STANDINS_ENV = REPO_ROOT / ".cache" / "compose" / "standins.env"
BUILD_ARGS = REPO_ROOT / ".cache" / "images" / "build-args"
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
    if not BUILD_ARGS.is_file():
        pytest.fail(f"{BUILD_ARGS} is missing: run `make images` (scripts/images/build.sh) first")
    words = BUILD_ARGS.read_text().split()
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


def test_a_champion_moved_by_hand_is_published_and_served(stack: Stack) -> None:
    """Rollback/manual promotion: move the alias, `train --export-only`; the running api
    picks the new champion up on its own (BANKCHURN_MODEL_POLL_SECONDS=5), no restart."""
    started_at = api_started_at(stack)
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
    served = eventually(
        lambda: served_registry_version(stack) == "2" or None,
        "the api to serve version 2",
        timeout=30,  # the poll interval (5 s) plus the load, with margin
    )
    assert served
    assert api_started_at(stack) == started_at


def test_sighup_asks_the_running_api_for_a_model_check(stack: Stack) -> None:
    """`docker compose kill -s HUP api` reaches uvicorn as PID 1 (one worker, no supervisor):
    the app handles it (a check now), and the container keeps running."""
    started_at = api_started_at(stack)
    assert stack.compose("kill", "-s", "HUP", "api").returncode == 0

    def checked() -> bool | None:
        logs = stack.compose("logs", "--no-color", "api").stdout
        return '"message": "model check requested"' in logs or None

    assert eventually(checked, "the api to log the requested check", timeout=30)
    assert stack.get("api", "/ready").status_code == 200
    assert api_started_at(stack) == started_at


LOAD_RATE = 10.0  # requests/s: a small steady load, bounded by the test's own duration
LOAD_MAX_SECONDS = 400.0


def steady_predictions(stack: Stack, stop: threading.Event) -> list[tuple[float, int, str]]:
    """POST /predict LOAD_RATE times a second until ``stop`` (or LOAD_MAX_SECONDS):
    (time, status or 0 for a connection error, the registry version or error) of each."""
    outcomes: list[tuple[float, int, str]] = []
    start = time.monotonic()
    with httpx.Client(base_url=stack.url("api", ""), timeout=10) as client:
        while not stop.is_set() and time.monotonic() - start < LOAD_MAX_SECONDS:
            try:
                response = client.post("/predict", json=EXAMPLE_CUSTOMER)
                answer = (response.status_code, response.json()["model_version"])
            except (httpx.HTTPError, KeyError, ValueError) as error:
                answer = (0, f"{type(error).__name__}: {error}")
            outcomes.append((time.monotonic() - start, *answer))
            stop.wait(max(0.0, start + len(outcomes) / LOAD_RATE - time.monotonic()))
    return outcomes


def test_a_better_model_from_a_second_training_run_is_served_without_restarting_the_api(
    stack: Stack,
) -> None:
    """Twice the rows (seed 42) scores a higher holdout ROC-AUC than the 4,000-row champion,
    so the run is promoted; the api serves it within its poll interval, under load, with
    no failed request and no restart."""
    started_at = api_started_at(stack)
    before = stack.get("api", "/ready").json()["model_version"]
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        load = pool.submit(steady_predictions, stack, stop)
        try:
            rerun = stack.compose(
                "run", "--rm", "-e", "TRAIN_SYNTH_ROWS=8000", "train", timeout=360
            )  # fmt: skip
            assert rerun.returncode == 0, rerun.stderr[-3000:]
            published = time.monotonic()
            eventually(
                lambda: served_registry_version(stack) == "3" or None,
                "the api to serve version 3",
                timeout=30,
            )
            served_after = time.monotonic() - published
            time.sleep(3)  # a few more requests on the new model
        finally:
            stop.set()
        outcomes = load.result()

    assert "version 3, promoted to champion" in rerun.stdout
    assert "champion (version 3) published" in rerun.stdout
    assert stack.champion()["version"] == "3"
    after = stack.get("api", "/ready").json()["model_version"]
    assert after != before
    assert served_after < 5 + 5  # the poll interval, plus the load and warm-up
    assert len(outcomes) >= 100
    assert [o for o in outcomes if o[1] != 200] == []
    assert {version for _, _, version in outcomes} == {before, after}
    assert outcomes[-1][2] == after
    assert api_started_at(stack) == started_at
    reloads = eventually(
        lambda: stack.prometheus(
            'bankchurn_model_reloads_total{job="bankchurn-api", result="loaded"} >= 2'
        ) or None,
        "two loaded reloads in Prometheus",
    )  # fmt: skip
    assert reloads


def test_a_tampered_model_makes_the_api_unready_and_the_alert_fire(stack: Stack) -> None:
    # The train service mounts the models volume read-write; the api mounts it read-only.
    # Every artifact (model.joblib, model.onnx): the image chooses the backend that loads one.
    tamper = stack.compose(
        "run", "--rm", "--no-deps", "--entrypoint", "python", "train", "-c",
        "import glob\nfor path in glob.glob('/models/champion/model.*'):\n"
        "    open(path, 'ab').write(b'tampered')",
    )  # fmt: skip
    assert tamper.returncode == 0, tamper.stderr
    # The running api sees the artifacts change at its next poll and refuses them: the model
    # it verified before keeps serving, and the refused state reaches Prometheus.
    assert eventually(
        lambda: (
            stack.prometheus('bankchurn_model_candidate_refused{job="bankchurn-api"} == 1') or None
        ),
        "the running api to refuse the tampered model",
    )
    assert stack.get("api", "/ready").status_code == 200
    # Started again, it has no verified model to fall back on.
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
