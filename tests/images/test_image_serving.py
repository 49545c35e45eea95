"""Every image serves the committed model and gives the host's in-process answers.

Levels 1 and 2 run the same scikit-learn pipeline as the host: the same numbers to 1e-12.
Production runs its ONNX export: within 1e-5 and with the same decision, the bound the
export's parity gate enforces at training time.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest

from bankchurn.predictor import load_checked_predictor, predict_records
from bankchurn.schema import FEATURES, CategoricalFeature
from bankchurn.synth import synthesize
from tests.images.imagetools import IMAGES, Container
from tooling.paths import REPO_ROOT

pytestmark = pytest.mark.docker
LEVELS = list(IMAGES)
CUSTOMERS = 20
# The images run Python 3.13, the host 3.11, both with the locked numpy/scikit-learn.
TOLERANCE = {"level1": 1e-12, "level2": 1e-12, "production": 1e-5}
BACKEND = {"level1": "sklearn", "level2": "sklearn", "production": "onnx"}


@pytest.fixture(scope="module")
def customers() -> list[dict[str, Any]]:
    """20 synthetic customers as API records (JSON-native values, snake_case names)."""
    columns = synthesize(CUSTOMERS, seed=5)
    records = []
    for row in range(CUSTOMERS):
        record: dict[str, Any] = {"id": f"customer-{row}"}
        for feature in FEATURES:
            value = columns[feature.column][row]
            if isinstance(feature, CategoricalFeature):
                record[feature.name] = str(value)
            else:
                record[feature.name] = int(value) if feature.integer else float(value)
        records.append(record)
    return records


@pytest.fixture(scope="module")
def expected(customers: list[dict[str, Any]]) -> np.ndarray:
    """What the committed scikit-learn model says on the host, in process."""
    return predict_records(load_checked_predictor(REPO_ROOT / "models"), customers)


@pytest.fixture(scope="module")
def threshold() -> float:
    return float(load_checked_predictor(REPO_ROOT / "models").card["threshold"]["value"])


@pytest.mark.parametrize("level", LEVELS)
def test_image_becomes_ready_and_reports_its_model(served: dict[str, Container], level: str):
    container = served[level]

    status, body = container.get("/ready")

    assert status == 200, body
    assert b'"model_version"' in body
    assert container.get("/health")[0] == 200
    status, card = container.get("/model")
    assert status == 200
    assert f'"backend":"{BACKEND[level]}"'.encode() in card


@pytest.mark.parametrize("level", LEVELS)
def test_predict_equals_the_in_process_model(
    served: dict[str, Container],
    level: str,
    customers: list[dict[str, Any]],
    expected: np.ndarray,
    threshold: float,
):
    answers = [served[level].post("/predict", customer) for customer in customers]

    assert [status for status, _ in answers] == [200] * CUSTOMERS
    got = np.array([body["churn_probability"] for _, body in answers])
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE[level])
    assert [body["churn"] for _, body in answers] == list(expected >= threshold)
    assert [body["id"] for _, body in answers] == [c["id"] for c in customers]


@pytest.mark.parametrize("level", LEVELS)
def test_predict_batch_equals_the_in_process_model(
    served: dict[str, Container], level: str, customers: list[dict[str, Any]], expected: np.ndarray
):
    status, body = served[level].post("/predict/batch", {"customers": customers})

    assert status == 200, body
    got = np.array([p["churn_probability"] for p in body["predictions"]])
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE[level])
    assert [p["id"] for p in body["predictions"]] == [c["id"] for c in customers]


def test_all_images_give_the_same_probabilities(
    served: dict[str, Container], customers: list[dict[str, Any]]
):
    batches = {
        level: served[level].post("/predict/batch", {"customers": customers}) for level in LEVELS
    }

    assert {level: status for level, (status, _) in batches.items()} == dict.fromkeys(LEVELS, 200)
    probabilities = {
        level: [p["churn_probability"] for p in body["predictions"]]
        for level, (_, body) in batches.items()
    }
    reference = probabilities[LEVELS[0]]
    for level in LEVELS[1:]:
        np.testing.assert_allclose(probabilities[level], reference, rtol=0, atol=TOLERANCE[level])
    decisions = {
        level: [p["churn"] for p in body["predictions"]] for level, (_, body) in batches.items()
    }
    assert decisions["production"] == decisions["level1"] == decisions["level2"]


@pytest.mark.parametrize("level", LEVELS)
def test_metrics_exposes_the_service_metrics(served: dict[str, Container], level: str):
    container = served[level]
    container.get("/ready")

    status, body = container.get("/metrics")

    assert status == 200
    text = body.decode()
    for name in ("bankchurn_model_ready 1.0", "bankchurn_predictions_total", "http_requests_total"):
        assert name in text, f"{name!r} missing from /metrics of {container.image}"


@pytest.mark.parametrize("level", LEVELS)
def test_uvicorns_lines_are_json_from_the_first(served: dict[str, Container], level: str) -> None:
    """uvicorn's "Started server process" comes before the app configures logging: the
    images give uvicorn the service's log config, so it is a JSON line like the rest.
    (Not every line is JSON: onnxruntime's C++ logger writes its own warnings to stderr.)"""
    lines = served[level].logs().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert not [line for line in lines if re.match(r"(INFO|WARNING|ERROR): ", line)], lines
    first = records[0]
    assert first["message"].startswith("Started server process"), lines[:3]
    assert (first["logger"], first["level"]) == ("uvicorn.error", "INFO")
    assert any(r["message"].startswith("Uvicorn running on") for r in records)
