"""Hot reload in real uvicorn processes under steady load: no failed request, no bad model.

The model folder goes v1 -> v2 -> v3 (tampered) -> v4 while ~250 requests/s arrive for
20 s (a tenth of them batches of 20): every response must be 200, name one model for
the whole request, name a model the schedule allows at that moment, and never v3.
With one worker and with two (uvicorn's supervisor, merged multiprocess /metrics).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from model_shelf import ModelShelf
from steady_load import LoadReport, Outcome, run_load

from app import metrics as names

RATE = 250.0  # requests/s offered; the floor is 200
SECONDS = 20.0
POLL = "0.5"
# How long after a publish the previous model may still answer: one poll, then the
# candidate's load and warm-up on a busy 2-core machine (~0.2 s idle), with margin.
GRACE = 5.0
# Seconds into the load at which each version is published (v3 is refused).
SCHEDULE = (("v2", 4.0), ("v3", 9.0), ("v4", 14.0))


@pytest.fixture
def shelf(model_dir: Path, tmp_path: Path) -> ModelShelf:
    shelf = ModelShelf(model_dir, tmp_path / "models")
    for name in ("v1", "v2", "v4"):
        shelf.add(name)
    shelf.add("v3", tamper=True)
    shelf.publish("v1")
    return shelf


def allowed_at(moment: float) -> set[str]:
    """The versions that may answer at ``moment``: the one published last (v3 never
    serves, so v2 stays), and, for GRACE seconds after a publish, the one before."""
    allowed, current = {"v1"}, "v1"
    for version, published in SCHEDULE:
        if moment < published or version == "v3":
            continue
        allowed = {current, version} if moment < published + GRACE else {version}
        current = version
    return allowed


def misplaced(outcome: Outcome) -> bool:
    return not outcome.versions <= allowed_at(outcome.started) | allowed_at(outcome.ended)


async def _publish_on_schedule(shelf: ModelShelf, start: float) -> None:
    for version, at in SCHEDULE:
        await asyncio.sleep(max(0.0, start + at - time.monotonic()))
        shelf.publish(version)


def _load_through_the_schedule(server, shelf, customer) -> LoadReport:
    return asyncio.run(
        run_load(
            "127.0.0.1",
            server.port,
            customer,
            rate=RATE,
            seconds=SECONDS,
            during=lambda start: _publish_on_schedule(shelf, start),
        )
    )


def _assert_served_through_the_swaps(report: LoadReport, workers: int) -> None:
    served = [o for o in report.outcomes if o.status == 200]
    print(
        f"\n{workers} worker(s): {len(report.outcomes)} requests in {report.seconds:.1f} s "
        f"= {report.rate:.0f}/s, p50 {report.latency_ms(0.5):.1f} ms, "
        f"p99 {report.latency_ms(0.99):.1f} ms"
    )
    for version, at in SCHEDULE:  # the 2 s after each publish: the check, load and swap
        window = (at, at + 2.0)
        print(
            f"  {version} published at {at:g} s: p50 {report.latency_ms(0.5, window):.1f} ms, "
            f"p99 {report.latency_ms(0.99, window):.1f} ms in the next 2 s"
        )
    assert report.failures() == []  # every request 200, one model per request
    assert report.seconds >= SECONDS
    assert report.rate >= 200
    assert [o for o in served if misplaced(o)] == []
    assert all("v3" not in o.versions for o in served)
    seen = {version for o in served for version in o.versions}
    assert seen == {"v1", "v2", "v4"}
    last_second = [o for o in served if o.started > SECONDS - 1]
    assert {version for o in last_second for version in o.versions} == {"v4"}


def _assert_reloads_counted(server, scrape, workers: int) -> None:
    metrics = scrape(server.http)
    # Each worker reloads on its own and /metrics adds the workers' counters up.
    assert metrics.value(names.MODEL_RELOADS_TOTAL, result="loaded") == 2 * workers
    assert metrics.value(names.MODEL_RELOADS_TOTAL, result="refused") == 1 * workers
    assert metrics.value(names.MODEL_READY) == 1
    assert (
        metrics.value(names.MODEL_INFO, model_name="bankchurn", version="v4", backend="onnx") == 1
    )
    for old in ("v1", "v2"):
        assert (
            metrics.value(names.MODEL_INFO, model_name="bankchurn", version=old, backend="onnx")
            == 0
        )
    refusals = [line for line in server.json_lines() if line["level"] == "ERROR"]
    assert len(refusals) == workers
    assert {line["reason"] for line in refusals} == {"checksum_mismatch"}
    assert all(line["message"].startswith("model reload refused (checksum_mismatch), still "
                                          "serving v2: ") for line in refusals)  # fmt: skip


def test_one_worker_swaps_models_under_load_without_a_failed_request(
    serve, shelf, customer, scrape
):
    server = serve(
        "--no-access-log",
        BANKCHURN_MODEL_DIR=str(shelf.link),
        BANKCHURN_MODEL_POLL_SECONDS=POLL,
        BANKCHURN_BACKEND="onnx",
        BANKCHURN_LOG_LEVEL="WARNING",  # the app's access log is INFO: keep 5,000 lines out
    )
    assert server.wait_for("/ready", 200).json()["model_version"] == "v1"

    report = _load_through_the_schedule(server, shelf, customer)

    _assert_served_through_the_swaps(report, workers=1)
    _assert_reloads_counted(server, scrape, workers=1)


def test_two_workers_swap_models_under_load_without_a_failed_request(
    serve, shelf, customer, scrape, tmp_path
):
    multiprocess_dir = tmp_path / "metrics"
    multiprocess_dir.mkdir()
    server = serve(
        "--no-access-log",
        "--workers",
        "2",
        BANKCHURN_MODEL_DIR=str(shelf.link),
        BANKCHURN_MODEL_POLL_SECONDS=POLL,
        BANKCHURN_BACKEND="onnx",
        BANKCHURN_LOG_LEVEL="WARNING",
        PROMETHEUS_MULTIPROC_DIR=str(multiprocess_dir),
    )
    assert server.wait_for("/ready", 200).json()["model_version"] == "v1"
    scrapes: list = []  # conftest.Metrics, one per scrape
    stop = threading.Event()

    def scrape_during_the_load() -> None:  # what Prometheus would see every 0.5 s
        while not stop.wait(0.5):
            scrapes.append(scrape(server.http))

    scraper = threading.Thread(target=scrape_during_the_load)
    scraper.start()
    wall_start = time.time()
    try:
        report = _load_through_the_schedule(server, shelf, customer)
    finally:
        stop.set()
        scraper.join()

    _assert_served_through_the_swaps(report, workers=2)
    _assert_reloads_counted(server, scrape, workers=2)
    # During the transition: every worker stays ready, the merged counters only grow.
    assert len(scrapes) >= 30
    assert {metrics.value(names.MODEL_READY) for metrics in scrapes} == {1}
    loaded = [metrics.value(names.MODEL_RELOADS_TOTAL, result="loaded") for metrics in scrapes]
    assert loaded == sorted(loaded)
    assert loaded[0] == 0
    # livemin: every worker loaded its model (v4) after v4 was published.
    last_load = scrape(server.http).value(names.MODEL_LAST_LOAD_TIMESTAMP_SECONDS)
    assert wall_start + SCHEDULE[-1][1] < last_load < time.time()


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


def test_a_server_started_without_a_model_becomes_ready_when_one_appears(
    serve, model_dir, tmp_path, customer
):
    shelf = ModelShelf(model_dir, tmp_path / "models")
    server = serve(BANKCHURN_MODEL_DIR=str(shelf.link), BANKCHURN_MODEL_POLL_SECONDS=POLL)
    unready = server.wait_for("/ready", 503)
    assert unready.json()["error"]["reason"] in {"loading", "card_missing"}
    server.wait_for("/health", 200)

    shelf.add("v1")
    shelf.publish("v1")

    assert server.wait_for("/ready", 200).json()["model_version"] == "v1"
    prediction = server.http.post("/predict", json=customer)
    assert prediction.status_code == 200
    assert prediction.json()["model_version"] == "v1"


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
    assert {v for o in report.outcomes if o.started > 13 for v in o.versions} == {"v2"}
    assert "Received SIGHUP, restarting processes." in server.log()
    new_workers = _model_ready_pids(server) - old_workers
    assert len(new_workers) == 2


def _model_ready_pids(server) -> set[int]:
    return {line["pid"] for line in server.json_lines() if line["message"] == "model ready"}
