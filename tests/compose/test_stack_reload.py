"""The compose stack end to end, second part: the champion changes while the api runs.

Runs after test_stack.py on the same stack (the session's ``stack`` fixture): retraining on the
same data keeps the champion, a champion moved by hand and a better one trained anew are served
without a restart, SIGHUP asks for a model check, and last a tampered model makes the api unready
and the alert fire. See test_stack.py's docstring for how the stack is built and started.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from bankchurn.schema import EXAMPLE_CUSTOMER
from tests.compose.stack import Stack, api_started_at, eventually, served_registry_version

pytestmark = pytest.mark.docker


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
        logs = stack.compose("logs", "--no-color", "api").stdout.splitlines()
        # compose prefixes each line with the container's name: the JSON starts at "{".
        messages = [
            json.loads(line[line.index("{") :]).get("message") for line in logs if "{" in line
        ]
        return "model check requested" in messages or None

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
