"""Liveness and readiness, for a good model, a loading one, and every kind of broken one."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import app.model_loading
from bankchurn.artifacts import CARD_FILE, MODEL_FILE


def test_health_is_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_names_the_model_once_it_is_warm(client, card):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "model_version": card["model_version"],
        "backend": "sklearn",
    }


def test_ready_says_loading_until_the_model_is_verified_and_warm(
    make_client, settle, customer, monkeypatch
):
    gate = threading.Event()
    real_load = app.model_loading.load_predictor

    def load_when_allowed(*args: Any, **kwargs: Any) -> Any:
        gate.wait(timeout=30)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(app.model_loading, "load_predictor", load_when_allowed)
    client = make_client(settle=False)

    health, ready = client.get("/health"), client.get("/ready")
    prediction = client.post("/predict", json=customer)
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 503
    assert ready.headers["retry-after"] == "5"
    assert ready.json()["error"]["code"] == "model_not_ready"
    assert ready.json()["error"]["reason"] == "loading"
    assert prediction.status_code == 503
    assert prediction.json()["error"]["reason"] == "loading"

    gate.set()
    settle(client)
    assert client.get("/ready").status_code == 200
    assert client.post("/predict", json=customer).status_code == 200


# --- broken models: each tampers with a private copy of the committed model ----------


def _edit_card(model: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    card = json.loads((model / CARD_FILE).read_text())
    edit(card)
    (model / CARD_FILE).write_text(json.dumps(card))


def _remove_card(model: Path) -> None:
    (model / CARD_FILE).unlink()


def _garble_card(model: Path) -> None:
    (model / CARD_FILE).write_text("{not json")


def _drop_card_threshold(model: Path) -> None:
    _edit_card(model, lambda card: card.pop("threshold"))


def _remove_artifact(model: Path) -> None:
    (model / MODEL_FILE).unlink()


def _tamper_with_artifact(model: Path) -> None:
    with (model / MODEL_FILE).open("ab") as artifact:
        artifact.write(b"one extra byte is enough")


def _claim_other_sklearn(model: Path) -> None:
    _edit_card(model, lambda card: card["versions"].update({"scikit-learn": "0.24.2"}))


def _reorder_features(model: Path) -> None:
    _edit_card(model, lambda card: card["schema"]["features"].reverse())


def _replace_artifact_and_its_checksum(model: Path) -> None:
    """Corrupt, but consistently so: the checksum matches, unpickling fails."""
    garbage = b"this is not a pickle"
    (model / MODEL_FILE).write_bytes(garbage)
    digest = hashlib.sha256(garbage).hexdigest()
    _edit_card(model, lambda card: card["artifacts"][MODEL_FILE].update({"sha256": digest}))


BROKEN_MODELS = [
    pytest.param(_remove_card, "card_missing", id="card-missing"),
    pytest.param(_garble_card, "card_invalid", id="card-not-json"),
    pytest.param(_drop_card_threshold, "card_invalid", id="card-without-threshold"),
    pytest.param(_remove_artifact, "artifact_missing", id="artifact-missing"),
    pytest.param(_tamper_with_artifact, "checksum_mismatch", id="artifact-tampered"),
    pytest.param(_claim_other_sklearn, "version_mismatch", id="sklearn-version-mismatch"),
    pytest.param(_reorder_features, "schema_mismatch", id="feature-order-changed"),
    pytest.param(_replace_artifact_and_its_checksum, "load_error", id="artifact-corrupt"),
]


@pytest.mark.parametrize(("break_model", "reason"), BROKEN_MODELS)
def test_broken_model_leaves_the_process_alive_but_unready(
    make_client, model_copy, customer, capsys, break_model, reason
):
    break_model(model_copy)
    client = make_client(model_dir=model_copy)

    health, ready = client.get("/health"), client.get("/ready")
    prediction, card = client.post("/predict", json=customer), client.get("/model")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    for response in (ready, prediction, card):
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "model_not_ready"
        assert error["reason"] == reason
        assert str(model_copy) not in error["message"]  # paths stay in the log
    assert "retry-after" not in ready.headers  # retrying will not fix it
    log = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [failure] = [line for line in log if line["logger"] == "bankchurn.api.model"][1:]
    assert failure["level"] == "ERROR"
    assert failure["reason"] == reason
    assert failure["message"].startswith(f"model not loaded ({reason}): ")
    assert len(failure["message"]) > len(f"model not loaded ({reason}): ") + 20
