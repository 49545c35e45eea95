"""Hot reload in real uvicorn processes under steady load: no failed request, no bad model.

The model folder goes v1 -> v2 -> v3 (tampered) -> v4 while ~250 requests/s arrive for
20 s (a tenth of them batches of 20): every response must be 200, name one model for
the whole request, name a model the schedule allows at that moment, and never v3.
With one worker and with two (uvicorn's supervisor, merged multiprocess /metrics).
SIGHUP, with one worker and under uvicorn's supervisor: test_model_reload_signals.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from app import metrics as names
from tests.api.model_shelf import ModelShelf
from tests.api.steady_load import LoadReport, Outcome, run_load

RATE = 250.0  # requests/s offered; the floor is 200
SECONDS = 20.0
POLL = "0.5"
# How long after a publish the previous model may still answer: one poll, then the
# candidate's load and warm-up on a busy 2-core machine (~0.2 s idle), with margin.
GRACE = 5.0
# Seconds into the load at which each version is published (v3 is refused).
SCHEDULE = (("v2", 4.0), ("v3", 9.0), ("v4", 14.0))
# How the servers under load run: following the shelf's link, on ONNX, and quiet (the app's
# access log is INFO: keep 5,000 lines out).
FOLLOWING = {
    "BANKCHURN_MODEL_POLL_SECONDS": POLL,
    "BANKCHURN_BACKEND": "onnx",
    "BANKCHURN_LOG_LEVEL": "WARNING",
}


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
    non_200 = sum(o.status not in (200, None) for o in report.outcomes)
    connection_errors = sum(o.status is None for o in report.outcomes)
    print(
        f"\n{workers} worker(s): {len(report.outcomes)} requests in {report.seconds:.1f} s "
        f"= {report.rate:.0f}/s, {non_200} non-200, {connection_errors} connection errors, "
        f"p50 {report.latency_ms(0.5):.1f} ms, p99 {report.latency_ms(0.99):.1f} ms"
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
    loaded, refused = (
        metrics.value(names.MODEL_RELOADS_TOTAL, result=result) for result in ("loaded", "refused")
    )
    print(f"  {names.MODEL_RELOADS_TOTAL} (all workers): loaded={loaded:g} refused={refused:g}")
    # Each worker reloads on its own and /metrics adds the workers' counters up.
    assert (loaded, refused) == (2 * workers, 1 * workers)
    assert metrics.value(names.MODEL_READY) == 1
    assert metrics.value(names.MODEL_CANDIDATE_REFUSED) == 0  # v4 loaded after v3's refusal
    assert (
        metrics.value(names.MODEL_INFO, model_name="bankchurn", version="v4", backend="onnx") == 1
    )
    for old in ("v1", "v2"):
        assert (
            metrics.value(names.MODEL_INFO, model_name="bankchurn", version=old, backend="onnx")
            == 0
        )
    refusals = [line for line in server.json_lines() if line["level"] == "ERROR"]
    assert len({line["pid"] for line in refusals}) == len(refusals) == workers  # one per worker
    assert {line["reason"] for line in refusals} == {"checksum_mismatch"}
    assert all(line["message"].startswith("model reload refused (checksum_mismatch), still "
                                          "serving v2: ") for line in refusals)  # fmt: skip


def test_one_worker_swaps_models_under_load_without_a_failed_request(
    serve, shelf, customer, scrape
):
    server = serve("--no-access-log", BANKCHURN_MODEL_DIR=str(shelf.link), **FOLLOWING)
    assert server.wait_for("/ready", 200).json()["model_version"] == "v1"

    report = _load_through_the_schedule(server, shelf, customer)

    _assert_served_through_the_swaps(report, workers=1)
    _assert_reloads_counted(server, scrape, workers=1)


def test_two_workers_swap_models_under_load_without_a_failed_request(
    serve_workers, shelf, customer, scrape
):
    server = serve_workers(2, "--no-access-log", BANKCHURN_MODEL_DIR=str(shelf.link), **FOLLOWING)
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
    # A scrape takes longer on a loaded machine, so count only enough to see the swaps.
    assert len(scrapes) >= 10
    assert {metrics.value(names.MODEL_READY) for metrics in scrapes} == {1}
    loaded = [metrics.value(names.MODEL_RELOADS_TOTAL, result="loaded") for metrics in scrapes]
    assert loaded == sorted(loaded)
    assert loaded[0] == 0 < loaded[-1]  # the scrapes saw reloads happen
    # Between v3's refusal (9 s) and v4's load (14 s) the merged gauge says "refused".
    assert 1 in {metrics.value(names.MODEL_CANDIDATE_REFUSED) for metrics in scrapes}
    # livemin: every worker loaded its model (v4) after v4 was published.
    last_load = scrape(server.http).value(names.MODEL_LAST_LOAD_TIMESTAMP_SECONDS)
    assert wall_start + SCHEDULE[-1][1] < last_load < time.time()


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
