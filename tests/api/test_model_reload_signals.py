"""SIGHUP in real uvicorn processes: a check now, with one worker and with several.

One worker handles SIGHUP itself. With ``--workers`` the signal goes to uvicorn's
supervisor, which restarts the workers instead (docs/model-reload.md); signalling each
worker's pid is the zero-failure way there.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from app import metrics as names
from tests.api.model_shelf import ModelShelf
from tests.api.steady_load import LoadReport, run_load

RATE = 250.0  # requests/s offered while the workers reload


@pytest.fixture
def shelf(model_dir: Path, tmp_path: Path) -> ModelShelf:
    shelf = ModelShelf(model_dir, tmp_path / "models")
    shelf.add("v1")
    shelf.add("v2")
    shelf.publish("v1")
    return shelf


def test_sighup_loads_a_new_model_without_the_poll(serve, shelf, customer, scrape):
    server = serve(BANKCHURN_MODEL_DIR=str(shelf.link))  # no poll interval
    assert server.wait_for("/ready", 200).json()["model_version"] == "v1"
    shelf.publish("v2")
    time.sleep(1.0)
    assert server.http.get("/ready").json()["model_version"] == "v1"  # nobody looked

    os.kill(server.process.pid, signal.SIGHUP)

    deadline = time.monotonic() + 30
    while (ready := server.http.get("/ready")).json()["model_version"] != "v2":
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    assert ready.status_code == 200
    prediction = server.http.post("/predict", json=customer)
    assert prediction.status_code == 200
    assert prediction.json()["model_version"] == "v2"
    assert server.process.poll() is None  # SIGHUP's default action would have ended it
    metrics = scrape(server.http)
    assert metrics.value(names.MODEL_RELOADS_TOTAL, result="loaded") == 1
    [reloaded] = [line for line in server.json_lines() if line["message"] == "model reloaded"]
    assert (reloaded["trigger"], reloaded["previous_version"]) == ("signal", "v1")


def _two_workers(serve, shelf, tmp_path, *args: str):
    multiprocess_dir = tmp_path / "metrics"
    multiprocess_dir.mkdir()
    server = serve(
        "--no-access-log",
        "--workers",
        "2",
        *args,
        BANKCHURN_MODEL_DIR=str(shelf.link),  # no poll interval: only a signal reloads
        BANKCHURN_BACKEND="onnx",
        PROMETHEUS_MULTIPROC_DIR=str(multiprocess_dir),
    )
    assert server.wait_for("/ready", 200).json()["model_version"] == "v1"
    deadline = time.monotonic() + 30
    while len(workers := _model_ready_pids(server)) < 2:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    return server, workers


def _load_then(server, customer, seconds: float, action) -> LoadReport:
    async def after_3_s(start: float) -> None:
        await asyncio.sleep(max(0.0, start + 3 - time.monotonic()))
        action()

    return asyncio.run(
        run_load("127.0.0.1", server.port, customer, rate=RATE, seconds=seconds, during=after_3_s)
    )


def test_sighup_to_each_worker_reloads_several_workers_without_a_failed_request(
    serve, shelf, customer, tmp_path
):
    """The zero-failure way to signal several workers: each worker handles SIGHUP itself."""
    server, workers = _two_workers(serve, shelf, tmp_path)

    def publish_then_hangup_workers() -> None:
        shelf.publish("v2")
        for pid in workers:
            os.kill(pid, signal.SIGHUP)

    report = _load_then(server, customer, 10, publish_then_hangup_workers)

    assert report.failures() == []
    assert {v for o in report.outcomes if o.started > 8 for v in o.versions} == {"v2"}
    reloaded = {line["pid"] for line in server.json_lines() if line["message"] == "model reloaded"}
    assert reloaded == workers
    assert "restarting processes" not in server.log()


def test_sighup_to_uvicorns_supervisor_restarts_the_workers_one_by_one(
    serve, shelf, customer, tmp_path
):
    """What uvicorn 0.54's supervisor does with SIGHUP (supervisors/multiprocess.py,
    ``restart_all``): it does not forward it. For each worker it starts a new one, waits
    until that one has finished start-up (with this app: until its model is loaded, so
    no 503 ever), then sends the old one SIGTERM. The old worker finishes its in-flight
    requests but closes its idle keep-alive connections, so a client that sends on such
    a connection at that instant gets no response: the only failures seen, and
    only on reused connections. New workers load whatever the folder holds.

    The supervisor waits ``--timeout-worker-healthcheck`` (default 5 s) for each new
    worker; one slower to import and load its model is killed and the restart aborted
    (the old workers keep serving the old model). Under this load 5 s was too short."""
    server, old_workers = _two_workers(serve, shelf, tmp_path, "--timeout-worker-healthcheck", "60")

    def publish_then_hangup_supervisor() -> None:
        shelf.publish("v2")
        os.kill(server.process.pid, signal.SIGHUP)

    report = _load_then(server, customer, 15, publish_then_hangup_supervisor)

    failures = report.failures()
    print(
        f"\nSIGHUP to the supervisor: {len(report.outcomes)} requests, {len(failures)} closed "
        f"keep-alive connections, p50 {report.latency_ms(0.5):.1f} ms, "
        f"p99 {report.latency_ms(0.99):.1f} ms"
    )
    assert [o for o in report.outcomes if o.status not in (200, None)] == []  # no 503
    # Closed (EOF) or reset (RST: the request's bytes arrived after the close) by the old worker.
    closed = ("IncompleteReadError: 0 bytes", "ConnectionResetError")
    kinds = {(o.reused, o.error) for o in failures}
    assert all(o.reused and o.error.startswith(closed) for o in failures), kinds
    assert len(failures) < 0.02 * len(report.outcomes)
    assert "Received SIGHUP, restarting processes." in server.log()
    # How long the one-by-one restart takes depends on the machine's load, so wait for it
    # (both new workers ready, both old ones gone) rather than assume it ended within the
    # load: from then on only the new model answers.
    deadline = time.monotonic() + 60
    while len(_model_ready_pids(server) - old_workers) < 2 or any(map(_alive, old_workers)):
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    answers = [server.http.post("/predict", json=customer) for _ in range(20)]
    assert {answer.json()["model_version"] for answer in answers} == {"v2"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _model_ready_pids(server) -> set[int]:
    return {line["pid"] for line in server.json_lines() if line["message"] == "model ready"}
