"""BANKCHURN_BACKEND=onnx: the same answers as scikit-learn, from onnxruntime alone."""

from __future__ import annotations

import json

import pytest

from app import metrics as names

TOLERANCE = 1e-5


def _customers(base, count):
    return [
        {
            **base,
            "age": 19 + (5 * i) % 70,
            "balance": round((6_203.17 * i) % 240_000, 2),
            "num_of_products": 1 + i % 4,
            "is_active_member": i % 2,
            "id": f"c-{i}",
        }
        for i in range(count)
    ]


def _same_prediction(onnx, sklearn):
    assert onnx["churn_probability"] == pytest.approx(sklearn["churn_probability"], abs=TOLERANCE)
    without = {"churn_probability"}
    assert {k: v for k, v in onnx.items() if k not in without} == {
        k: v for k, v in sklearn.items() if k not in without
    }


def test_onnx_backend_answers_predict_like_sklearn(make_client, customer):
    onnx, sklearn = make_client(backend="onnx"), make_client(backend="sklearn")

    for candidate in _customers(customer, 12):
        from_onnx = onnx.post("/predict", json=candidate)
        from_sklearn = sklearn.post("/predict", json=candidate)
        assert from_onnx.status_code == from_sklearn.status_code == 200
        _same_prediction(from_onnx.json(), from_sklearn.json())


def test_onnx_backend_answers_batches_like_sklearn(make_client, customer):
    onnx, sklearn = make_client(backend="onnx"), make_client(backend="sklearn")
    batch = {"customers": _customers(customer, 40)}

    from_onnx, from_sklearn = (
        onnx.post("/predict/batch", json=batch),
        sklearn.post("/predict/batch", json=batch),
    )

    assert from_onnx.status_code == from_sklearn.status_code == 200
    body, expected = from_onnx.json(), from_sklearn.json()
    assert {k: v for k, v in body.items() if k != "predictions"} == {
        k: v for k, v in expected.items() if k != "predictions"
    }
    assert len(body["predictions"]) == 40
    for got, want in zip(body["predictions"], expected["predictions"], strict=True):
        _same_prediction(got, want)


def test_onnx_backend_is_named_in_ready_model_and_metrics(make_client, card, customer, scrape):
    client = make_client(backend="onnx")
    client.post("/predict", json=customer)

    assert client.get("/ready").json() == {
        "status": "ready",
        "model_version": card["model_version"],
        "backend": "onnx",
    }
    model = client.get("/model").json()
    assert model["serving"]["backend"] == "onnx"
    assert model["onnx"]["file"] == "model.onnx"
    assert model["onnx"]["parity"]["passed"] is True
    metrics = scrape(client)
    assert metrics.labels(names.MODEL_INFO) == [
        {"model_name": card["model_name"], "version": card["model_version"], "backend": "onnx"}
    ]
    assert metrics.total(names.PREDICTIONS_TOTAL) == 1
    assert metrics.value(f"{names.INFERENCE_DURATION_SECONDS}_count") == 1


@pytest.mark.parametrize(
    ("break_model", "reason"),
    [
        pytest.param(lambda m: (m / "model.onnx").unlink(), "artifact_missing", id="missing"),
        pytest.param(
            lambda m: (m / "model.onnx").write_bytes(b"tampered"),
            "checksum_mismatch",
            id="tampered",
        ),
    ],
)
def test_onnx_backend_with_a_broken_onnx_file_is_unready_with_a_reason(
    make_client, model_copy, customer, break_model, reason
):
    break_model(model_copy)
    client = make_client(model_dir=model_copy, backend="onnx")

    for response in (client.get("/ready"), client.post("/predict", json=customer)):
        assert response.status_code == 503
        assert response.json()["error"]["reason"] == reason


def test_onnx_backend_without_an_export_says_onnx_unavailable(make_client, model_copy, customer):
    card = json.loads((model_copy / "model_card.json").read_text())
    card["onnx"] = {**card["onnx"], "file": None, "reason": "parity failed"}
    (model_copy / "model_card.json").write_text(json.dumps(card))
    client = make_client(model_dir=model_copy, backend="onnx")

    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["error"]["reason"] == "onnx_unavailable"
    assert "no ONNX export" in response.json()["error"]["message"]


def test_the_onnx_served_app_imports_no_sklearn_scipy_or_pandas(run_python):
    """A fresh process, configured only by the environment, as the production image runs."""
    code = """
        import json, sys, time
        from fastapi.testclient import TestClient
        from app.fastapi_app import app
        from bankchurn.schema import EXAMPLE_CUSTOMER

        with TestClient(app) as client:
            while client.get("/ready").status_code != 200:
                time.sleep(0.05)
            response = client.post("/predict", json=EXAMPLE_CUSTOMER)
            backend = client.get("/model").json()["serving"]["backend"]
        heavy = ["sklearn", "scipy", "pandas", "joblib", "threadpoolctl"]
        print(json.dumps({"status": response.status_code, "backend": backend,
                          "loaded": [name for name in heavy if name in sys.modules]}))
    """
    result = run_python(code, BANKCHURN_BACKEND="onnx", BANKCHURN_LOG_LEVEL="WARNING")

    assert result == {"status": 200, "backend": "onnx", "loaded": []}
