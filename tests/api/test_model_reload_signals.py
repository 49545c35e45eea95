"""SIGHUP in real uvicorn processes: a check now, with one worker and with several.

One worker handles SIGHUP itself. With ``--workers`` the signal goes to uvicorn's
supervisor, which restarts the workers one by one instead (docs/model-reload.md); the
service's drain on SIGTERM makes that lose no request either. Signalling each worker's
pid reloads in place, without a restart.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from app import metrics as names
from tests.api.model_shelf import ModelShelf
from tests.api.steady_load import LoadReport, run_load
from tooling.paths import REPO_ROOT

RATE = 250.0  # requests/s offered while the workers reload
# SIGHUP at 3 s; the supervisor then replaces the two workers one after the other, each
# taking its replacement's start-up plus the old one's drain (5 s) and exit: 14 s on a
# quiet machine here, 23 s with other work on it; the load must outlast that.
SUPERVISOR_LOAD_SECONDS = 40.0


def images_entrypoint(port: int) -> list[str]:
    """How the images start the service (docker/serve.py): uvicorn with the service's HTTP
    protocol (an idle connection is closed at shutdown only once it is really idle)."""
    return [sys.executable, str(REPO_ROOT / "docker" / "serve.py"), "app.fastapi_app:app",
            "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip


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

    def swapped() -> httpx.Response | None:
        ready = server.http.get("/ready")
        return ready if ready.json()["model_version"] == "v2" else None

    assert server.eventually(swapped, "v2 served after SIGHUP").status_code == 200
    prediction = server.http.post("/predict", json=customer)
    assert prediction.status_code == 200
    assert prediction.json()["model_version"] == "v2"
    assert server.process.poll() is None  # SIGHUP's default action would have ended it
    metrics = scrape(server.http)
    assert metrics.value(names.MODEL_RELOADS_TOTAL, result="loaded") == 1
    [reloaded] = [line for line in server.json_lines() if line["message"] == "model reloaded"]
    assert (reloaded["trigger"], reloaded["previous_version"]) == ("signal", "v1")


def _two_workers(serve_workers, shelf, *args: str, launcher=None):
    server = serve_workers(
        2,
        "--no-access-log",
        *args,
        launcher=launcher,
        BANKCHURN_MODEL_DIR=str(shelf.link),  # no poll interval: only a signal reloads
        BANKCHURN_BACKEND="onnx",
    )
    assert server.wait_for("/ready", 200).json()["model_version"] == "v1"
    return server, server.wait_for_workers(2, timeout=30)


def _load_then(server, customer, seconds: float, action) -> LoadReport:
    async def after_3_s(start: float) -> None:
        await asyncio.sleep(max(0.0, start + 3 - time.monotonic()))
        action()

    return asyncio.run(
        run_load("127.0.0.1", server.port, customer, rate=RATE, seconds=seconds, during=after_3_s)
    )


def test_sighup_to_each_worker_reloads_several_workers_without_a_failed_request(
    serve_workers, shelf, customer
):
    """The zero-failure way to signal several workers: each worker handles SIGHUP itself."""
    server, workers = _two_workers(serve_workers, shelf)

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


def test_sighup_to_uvicorns_supervisor_replaces_the_workers_without_a_failed_request(
    serve_workers, shelf, customer
):
    """What uvicorn 0.54's supervisor does with SIGHUP (supervisors/multiprocess.py,
    ``restart_all``): it does not forward it. For each worker it starts a new one, waits
    until that one has finished start-up (with this app: until its model is loaded, so
    no 503 ever), then sends the old one SIGTERM and waits for it to exit. New workers
    load whatever the folder holds. Two things keep every request answered, as the images
    run the service (docker/serve.py): the old worker drains (app/draining.py), answering
    for BANKCHURN_DRAIN_SECONDS with ``Connection: close`` so keep-alive clients move to
    fresh connections, which either worker may take; and at its shutdown it closes a
    connection only once it has been idle a moment (app/http_protocol.py). With neither
    (plain uvicorn, BANKCHURN_DRAIN_SECONDS=0) 1-10 requests a run got no response: sent on
    a keep-alive connection the old worker was closing. The load lasts until after both
    workers were replaced, so the whole transition is under load.

    The supervisor waits ``--timeout-worker-healthcheck`` (default 5 s) for each new
    worker; one slower to import and load its model is killed and the restart aborted
    (the old workers keep serving the old model). Under this load 5 s was too short."""
    server, old_workers = _two_workers(
        serve_workers, shelf, "--timeout-worker-healthcheck", "60", launcher=images_entrypoint
    )
    replaced_at: list[float] = []  # seconds into the load at which the restart was over

    async def hangup_then_wait_for_the_restart(start: float) -> None:
        await asyncio.sleep(max(0.0, start + 3 - time.monotonic()))
        shelf.publish("v2")
        os.kill(server.process.pid, signal.SIGHUP)
        # Over once both old workers have exited: the supervisor stops an old one only after
        # its replacement is ready (else it aborts and keeps it). Only pids are checked here,
        # on the load's event loop: parsing the growing log each time would slow the load.
        while any(map(_alive, old_workers)):
            assert time.monotonic() < start + SUPERVISOR_LOAD_SECONDS - 2, (
                f"the workers were not replaced within the load:\n{server.log()}"
            )
            await asyncio.sleep(0.1)
        replaced_at.append(time.monotonic() - start)

    report = asyncio.run(
        run_load(
            "127.0.0.1", server.port, customer, rate=RATE, seconds=SUPERVISOR_LOAD_SECONDS,
            during=hangup_then_wait_for_the_restart,
        )
    )  # fmt: skip

    print(
        f"\nSIGHUP to the supervisor: {len(report.outcomes)} requests in {report.seconds:.1f} s "
        f"= {report.rate:.0f}/s, {len(report.failures())} failed, workers replaced "
        f"{replaced_at[0] - 3:.1f} s after the signal, p50 {report.latency_ms(0.5):.1f} ms, "
        f"p99 {report.latency_ms(0.99):.1f} ms"
    )
    assert report.failures() == []  # no 503, no closed or reset connection
    assert "Received SIGHUP, restarting processes." in server.log()
    assert len(server.ready_pids() - old_workers) == 2
    after = [o for o in report.outcomes if o.started > replaced_at[0]]
    assert len(after) > RATE  # the load went on for more than a second after the restart
    assert {version for o in after for version in o.versions} == {"v2"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
