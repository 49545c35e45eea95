"""Where the model runs: small ONNX calls on the event loop, everything else on the model thread.

The inference thread keeps long calls (scikit-learn, big batches) off the event loop; for
a few rows in onnxruntime the hop to that thread costs more than the call itself.
"""

from __future__ import annotations

import threading

import pytest

from app.model_loading import INLINE_MAX_ROWS

MODEL_THREAD = "bankchurn-model"


def _spy_on_threads(client, monkeypatch) -> list[str]:
    """Record the name of the thread each model call runs on."""
    predictor = client.app.state.model_state.model.predictor
    predict_proba = predictor.predict_proba
    threads: list[str] = []

    def recording(matrix):
        threads.append(threading.current_thread().name)
        return predict_proba(matrix)

    monkeypatch.setattr(predictor, "predict_proba", recording)
    return threads


def _batch(customer, rows):
    return {"customers": [{**customer, "id": f"c-{i}"} for i in range(rows)]}


def test_onnx_scores_a_single_row_on_the_event_loop(make_client, customer, monkeypatch):
    client = make_client(backend="onnx")
    threads = _spy_on_threads(client, monkeypatch)

    assert client.post("/predict", json=customer).status_code == 200
    assert (
        client.post("/predict/batch", json=_batch(customer, INLINE_MAX_ROWS["onnx"])).status_code
        == 200
    )

    assert len(threads) == 2
    assert not any(name.startswith(MODEL_THREAD) for name in threads), threads


def test_onnx_sends_batches_past_the_inline_limit_to_the_model_thread(
    make_client, customer, monkeypatch
):
    client = make_client(backend="onnx")
    threads = _spy_on_threads(client, monkeypatch)

    rows = INLINE_MAX_ROWS["onnx"] + 1
    response = client.post("/predict/batch", json=_batch(customer, rows))

    assert response.status_code == 200
    assert len(response.json()["predictions"]) == rows
    assert [name.startswith(MODEL_THREAD) for name in threads] == [True]


@pytest.mark.parametrize("path", ["/predict", "/predict/batch"])
def test_sklearn_always_scores_on_the_model_thread(make_client, customer, monkeypatch, path):
    client = make_client(backend="sklearn")
    threads = _spy_on_threads(client, monkeypatch)

    body = customer if path == "/predict" else _batch(customer, 1)
    assert client.post(path, json=body).status_code == 200

    assert [name.startswith(MODEL_THREAD) for name in threads] == [True]
