"""The production image (ONNX backend, no scikit-learn) serves reason codes, and they are
the host's scikit-learn contributions within 1e-5."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bankchurn.explain import baseline_shapley, reference_row
from bankchurn.predictor import load_predictor
from bankchurn.schema import FEATURE_NAMES, encode_records
from tests.images.imagetools import IMAGES, Containers
from tooling.docker import HARDENED
from tooling.paths import REPO_ROOT

pytestmark = pytest.mark.docker
IMAGE = IMAGES["production"]
CUSTOMERS = [
    {"credit_score": 420, "geography": "Germany", "gender": "Female", "age": 58, "tenure": 1,
     "balance": 125_510.82, "num_of_products": 3, "has_cr_card": 0, "is_active_member": 0,
     "estimated_salary": 40_000.0},
    {"credit_score": 850, "geography": "Spain", "gender": "Male", "age": 23, "tenure": 9,
     "balance": 0.0, "num_of_products": 2, "has_cr_card": 1, "is_active_member": 1,
     "estimated_salary": 180_000.5},
]  # fmt: skip


def test_the_production_image_explains_like_the_host_sklearn_model(containers: Containers):
    predictor = load_predictor(REPO_ROOT / "models")
    reference = reference_row(predictor.card["explanation"]["reference"])
    expected = baseline_shapley(predictor.predict_proba, encode_records(CUSTOMERS), reference)
    container = containers.run(IMAGE, *HARDENED)
    container.wait_ready()

    status, body = container.post("/predict/batch?explain=true&k=10", {"customers": CUSTOMERS})
    model_status, card = container.get("/model")
    metrics_status, metrics = container.get("/metrics")

    assert status == 200, body
    assert model_status == metrics_status == 200
    assert json.loads(card)["serving"]["backend"] == "onnx"
    assert json.loads(card)["explanation"] == predictor.card["explanation"]
    for prediction, want in zip(body["predictions"], expected.contributions, strict=True):
        served = {reason["feature"]: reason["contribution"] for reason in prediction["reasons"]}
        got = np.array([served[name] for name in FEATURE_NAMES])
        assert np.abs(got - want).max() <= 1e-5, (got, want)
    assert b'bankchurn_explanations_total{backend="onnx"} 2.0' in metrics
