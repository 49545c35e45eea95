"""Following the model folder in one app: a verified candidate is swapped in, without a restart.

In-process (TestClient, the real lifespan and loader) with a 50 ms poll; candidates that
are refused are in test_model_reload_refusals.py, real uvicorn processes under load in
test_model_reload_server.py.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from app import metrics as names
from bankchurn.artifacts import CARD_FILE
from tests.api.model_shelf import ModelShelf
from tests.api.reload_checks import (
    POLL,
    assert_still_serving,
    eventually,
    reloads,
    served_version,
    shelf_with_v1,
)


@pytest.fixture
def shelf(model_dir: Path, tmp_path: Path) -> ModelShelf:
    return shelf_with_v1(model_dir, tmp_path)


def test_a_new_model_in_the_folder_is_served_without_a_restart(
    make_client, shelf, scrape, customer
):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    first_load = scrape(client).value(names.MODEL_LAST_LOAD_TIMESTAMP_SECONDS)
    assert served_version(client) == "v1"
    assert reloads(scrape, client) == {"loaded": 0, "refused": 0}  # start-up is no reload
    assert scrape(client).value(names.MODEL_CANDIDATE_REFUSED) == 0

    shelf.add("v2")
    shelf.publish("v2")
    eventually(lambda: served_version(client) == "v2", "v2 served")

    assert_still_serving(client, "v2", customer)
    batch = client.post("/predict/batch", json={"customers": [customer] * 3}).json()
    assert batch["model_version"] == "v2"
    assert {p["model_version"] for p in batch["predictions"]} == {"v2"}
    metrics = scrape(client)
    assert reloads(scrape, client) == {"loaded": 1, "refused": 0}
    assert metrics.value(names.MODEL_LAST_LOAD_TIMESTAMP_SECONDS) > first_load > 0
    info = {"model_name": "bankchurn", "version": "v2", "backend": "sklearn"}
    assert metrics.value(names.MODEL_INFO, **info) == 1
    assert {labels["version"] for labels in metrics.labels(names.MODEL_INFO)} == {"v2"}


def test_a_service_started_without_a_model_becomes_ready_when_one_appears(
    make_client, model_dir, tmp_path, scrape, customer
):
    shelf = ModelShelf(model_dir, tmp_path / "models")  # no champion published yet
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    unready = client.get("/ready")
    assert unready.status_code == 503
    assert unready.json()["error"]["reason"] == "card_missing"
    assert client.post("/predict", json=customer).status_code == 503

    shelf.add("v1")
    shelf.publish("v1")
    eventually(lambda: client.get("/ready").status_code == 200, "ready once v1 appears")

    assert_still_serving(client, "v1", customer)
    assert reloads(scrape, client) == {"loaded": 1, "refused": 0}
    assert scrape(client).value(names.MODEL_READY) == 1


def test_without_a_poll_interval_the_folder_is_not_watched(make_client, shelf, scrape):
    client = make_client(model_dir=shelf.link)  # BANKCHURN_MODEL_POLL_SECONDS unset: 0
    shelf.add("v2")
    shelf.publish("v2")
    time.sleep(0.5)

    assert served_version(client) == "v1"
    assert reloads(scrape, client) == {"loaded": 0, "refused": 0}


def test_the_card_of_each_version_is_what_model_serves(make_client, shelf):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    shelf.add("v2")
    shelf.publish("v2")
    eventually(lambda: served_version(client) == "v2", "v2 served")

    served = client.get("/model").json()
    on_disk = json.loads((shelf.versions / "v2" / CARD_FILE).read_text())
    assert served["model_version"] == on_disk["model_version"] == "v2"
    assert served["artifacts"] == on_disk["artifacts"]


def test_the_replaced_models_inference_thread_ends(make_client, shelf):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    state = client.app.state.model_state
    old_thread = state.model.executor.submit(threading.get_ident).result()
    shelf.add("v2")
    shelf.publish("v2")
    eventually(lambda: served_version(client) == "v2", "v2 served")

    new_thread = state.model.executor.submit(threading.get_ident).result()
    assert new_thread != old_thread  # the candidate was loaded on, and predicts on, its own
    eventually(
        lambda: old_thread not in {thread.ident for thread in threading.enumerate()},
        "the old model's thread to end",
    )


def test_a_reloaded_model_predicts_with_the_configured_openmp_threads(run_python, shelf, customer):
    """The candidate's own thread set OpenMP's per-thread limit as it loaded, so the
    new model predicts with it too (checked in a fresh process, as a server runs)."""
    code = f"""
        import json, os, time
        from fastapi.testclient import TestClient
        from threadpoolctl import threadpool_info
        from app.fastapi_app import app

        def openmp_threads():
            libraries = threadpool_info()
            return sorted({{x["num_threads"] for x in libraries if x["user_api"] == "openmp"}})

        def version(client):
            ready = client.get("/ready")
            return ready.json()["model_version"] if ready.status_code == 200 else None

        with TestClient(app) as client:
            while version(client) != "v1":
                time.sleep(0.05)
            os.replace({str(shelf.link.with_name("next"))!r}, {str(shelf.link)!r})
            while version(client) != "v2":
                time.sleep(0.05)
            status = client.post("/predict", json={customer!r}).status_code
            threads = app.state.model_state.model.executor.submit(openmp_threads).result()
        print(json.dumps({{"status": status, "threads": threads}}))
    """
    shelf.add("v2")
    shelf.link.with_name("next").symlink_to("versions/v2")
    result = run_python(
        code,
        BANKCHURN_MODEL_DIR=str(shelf.link),
        BANKCHURN_MODEL_POLL_SECONDS="0.05",
        BANKCHURN_INFERENCE_THREADS="1",
        OMP_NUM_THREADS="2",
    )

    assert result == {"status": 200, "threads": [1]}
