"""Following the model folder in one app: a verified candidate is swapped in, a bad one never.

In-process (TestClient, the real lifespan and loader) with a 50 ms poll; real uvicorn
processes under load are in test_model_reload_server.py.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app import metrics as names
from bankchurn.artifacts import CARD_FILE, MODEL_FILE, ONNX_FILE
from tests.api.model_shelf import ModelShelf

POLL = 0.05
TIMEOUT = 30.0


@pytest.fixture
def shelf(model_dir: Path, tmp_path: Path) -> ModelShelf:
    shelf = ModelShelf(model_dir, tmp_path / "models")
    shelf.add("v1")
    shelf.publish("v1")
    return shelf


def eventually(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(POLL / 2)
    pytest.fail(f"not within {TIMEOUT} s: {what}")


def error_lines(capsys) -> list[dict[str, Any]]:
    """The service's ERROR log lines so far (JSON lines on stderr)."""
    lines = [json.loads(text) for text in capsys.readouterr().err.splitlines() if text[:1] == "{"]
    return [line for line in lines if line["level"] == "ERROR"]


def reloads(scrape, client) -> dict[str, float]:
    metrics = scrape(client)
    return {
        result: metrics.value(names.MODEL_RELOADS_TOTAL, result=result)
        for result in ("loaded", "refused")
    }


def served_version(client) -> str:
    ready = client.get("/ready")
    assert ready.status_code == 200, ready.text
    return str(ready.json()["model_version"])


def assert_still_serving(client, version: str, customer: dict[str, Any]) -> None:
    assert served_version(client) == version
    assert client.get("/model").json()["model_version"] == version
    prediction = client.post("/predict", json=customer)
    assert prediction.status_code == 200
    assert prediction.json()["model_version"] == version


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


def test_reload_refuses_a_tampered_model_and_keeps_serving(
    make_client, shelf, scrape, customer, capsys
):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    shelf.add("v3", tamper=True)
    shelf.publish("v3")
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "v3 refused")

    assert_still_serving(client, "v1", customer)
    [line] = error_lines(capsys)  # one line, not one per poll
    assert line["message"].startswith(
        "model reload refused (checksum_mismatch), still serving v1: "
    )
    assert "versions/v3/model.joblib has sha256" in line["message"]
    assert (line["reason"], line["trigger"], line["model_version"]) == (
        "checksum_mismatch",
        "poll",
        "v1",
    )
    assert scrape(client).value(names.MODEL_READY) == 1
    # The refused state lasts as long as the bad model is published, not one scrape.
    time.sleep(10 * POLL)
    assert scrape(client).value(names.MODEL_CANDIDATE_REFUSED) == 1


def test_a_refused_folder_is_tried_again_only_once_it_changes(
    make_client, shelf, scrape, customer, model_dir
):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    tampered = shelf.add("v3", tamper=True)
    shelf.publish("v3")
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "v3 refused")

    time.sleep(20 * POLL)  # twenty polls of the same bad folder
    assert reloads(scrape, client) == {"loaded": 0, "refused": 1}
    assert scrape(client).value(names.MODEL_CANDIDATE_REFUSED) == 1

    for artifact in (MODEL_FILE, ONNX_FILE):  # repaired in place: same path, new files
        shutil.copyfile(model_dir / artifact, tampered / artifact)
    eventually(lambda: served_version(client) == "v3", "the repaired v3 served")
    assert_still_serving(client, "v3", customer)
    assert reloads(scrape, client) == {"loaded": 1, "refused": 1}
    assert scrape(client).value(names.MODEL_CANDIDATE_REFUSED) == 0


def test_a_half_written_folder_is_refused_then_served_once_complete(
    make_client, shelf, scrape, customer, model_dir
):
    """The card written before the artifact (a copy in progress) is never served."""
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    partial = shelf.add("v2")
    (partial / MODEL_FILE).unlink()
    shelf.publish("v2")
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "the partial v2 refused")
    assert_still_serving(client, "v1", customer)

    with (partial / MODEL_FILE).open("wb") as stream:  # half of the artifact so far
        stream.write((model_dir / MODEL_FILE).read_bytes()[:1000])
    eventually(lambda: reloads(scrape, client)["refused"] == 2, "the truncated v2 refused")
    assert_still_serving(client, "v1", customer)

    shutil.copyfile(model_dir / MODEL_FILE, partial / MODEL_FILE)
    eventually(lambda: served_version(client) == "v2", "the complete v2 served")
    assert reloads(scrape, client) == {"loaded": 1, "refused": 2}


def _old_scikit_learn(card: dict[str, Any]) -> None:
    card["versions"]["scikit-learn"] = "0.24.2"


def _other_features(card: dict[str, Any]) -> None:
    card["schema"]["features"][0]["name"] = "credit_rating"


@pytest.mark.parametrize(
    ("edit", "reason"),
    [(_old_scikit_learn, "version_mismatch"), (_other_features, "schema_mismatch")],
)
def test_reload_refuses_a_model_this_service_cannot_serve(
    make_client, shelf, scrape, customer, edit, reason, capsys
):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    shelf.add("v2", edit=edit)
    shelf.publish("v2")
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "v2 refused")

    assert_still_serving(client, "v1", customer)
    [line] = error_lines(capsys)
    assert line["message"].startswith(f"model reload refused ({reason}), still serving v1: ")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda folder: (folder / CARD_FILE).write_text('{"model_ver'), "card_invalid"),
        (lambda folder: (folder / CARD_FILE).unlink(), "card_missing"),
    ],
)
def test_reload_refuses_an_unreadable_or_missing_card(
    make_client, shelf, scrape, customer, damage, reason, capsys
):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    damage(shelf.add("v2"))
    shelf.publish("v2")
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "v2 refused")

    assert_still_serving(client, "v1", customer)
    [line] = error_lines(capsys)
    assert line["message"].startswith(f"model reload refused ({reason}), still serving v1: ")


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


def test_a_refused_candidate_of_an_unready_service_updates_the_reason(
    make_client, model_dir, tmp_path, scrape
):
    shelf = ModelShelf(model_dir, tmp_path / "models")
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    shelf.add("v1", tamper=True)
    shelf.publish("v1")
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "v1 refused")

    unready = client.get("/ready")
    assert unready.status_code == 503
    assert unready.json()["error"]["reason"] == "checksum_mismatch"
    # Nothing is served: model_ready 0 says so (BankchurnModelNotReady), not this gauge.
    metrics = scrape(client)
    assert metrics.value(names.MODEL_READY) == 0
    assert metrics.value(names.MODEL_CANDIDATE_REFUSED) == 0


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


def test_a_symlink_loop_is_refused_and_the_folder_still_followed(make_client, shelf, scrape):
    client = make_client(model_dir=shelf.link, model_poll_seconds=POLL)
    loop = shelf.link.with_name("loop")
    loop.symlink_to("loop")
    temporary = shelf.link.with_name(".champion.loop")
    temporary.symlink_to("loop")
    temporary.replace(shelf.link)
    eventually(lambda: reloads(scrape, client)["refused"] == 1, "the loop refused")
    assert served_version(client) == "v1"

    shelf.add("v2")
    shelf.publish("v2")
    eventually(lambda: served_version(client) == "v2", "v2 served after the loop")
