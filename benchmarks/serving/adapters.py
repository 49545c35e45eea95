"""What each contestant is sent and how its answer is read back: one adapter pair per protocol.

bankchurn (and the ceiling) take named JSON fields; the peers take the customers already
encoded as the model's feature rows, in their own tensor/dataframe formats. bankchurn's
Open Inference Protocol endpoint takes one named tensor per feature (the customers, not
the encoded matrix), on the same protocol as MLServer's.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from app.v2_codec import declared_datatype
from bankchurn.schema import FEATURES
from bankchurn.synth import synthesize
from benchmarks.serving.payload import Payload

BATCH_ROWS = 100
CUSTOMER_SEED = 7


def benchmark_customers() -> list[dict[str, Any]]:
    """100 synthetic customers (fixed seed), as the API's snake_case JSON records."""
    columns = synthesize(BATCH_ROWS, seed=CUSTOMER_SEED)
    # .tolist() gives Python ints, floats and strs: the JSON types the API's schema wants.
    values = {feature.name: columns[feature.column].tolist() for feature in FEATURES}
    return [{name: values[name][row] for name in values} for row in range(BATCH_ROWS)]


def bankchurn_payload(customers: list[dict[str, Any]], _: np.ndarray) -> Payload:
    if len(customers) == 1:
        return Payload("/predict", json.dumps(customers[0]).encode(), 1)
    return Payload("/predict/batch", json.dumps({"customers": customers}).encode(), len(customers))


def bankchurn_probabilities(answer: Any) -> list[float]:
    predictions = answer.get("predictions", [answer])
    return [float(p["churn_probability"]) for p in predictions]


def mlserver_payload(_: list[dict[str, Any]], matrix: np.ndarray) -> Payload:
    body = {
        "inputs": [
            {
                "name": "features",
                "shape": list(matrix.shape),
                "datatype": "FP64",
                "data": matrix.ravel().tolist(),
            }
        ],
        "outputs": [{"name": "predict_proba"}],
    }
    return Payload("/v2/models/bankchurn/infer", json.dumps(body).encode(), len(matrix))


def mlserver_probabilities(answer: Any) -> list[float]:
    [output] = answer["outputs"]
    return [float(p) for p in output["data"][1::2]]  # rows of [P(stay), P(churn)], flattened


def mlflow_payload(_: list[dict[str, Any]], matrix: np.ndarray) -> Payload:
    columns = [feature.column for feature in FEATURES]
    body = {"dataframe_split": {"columns": columns, "data": matrix.tolist()}}
    return Payload("/invocations", json.dumps(body).encode(), len(matrix))


def mlflow_probabilities(answer: Any) -> list[float]:
    return [float(row[1]) for row in answer["predictions"]]


def bentoml_payload(_: list[dict[str, Any]], matrix: np.ndarray) -> Payload:
    return Payload("/predict", json.dumps({"features": matrix.tolist()}).encode(), len(matrix))


def bentoml_probabilities(answer: Any) -> list[float]:
    return [float(p) for p in answer]


# The customer of README's reason-code example (its `curl .../predict?explain=true`); the
# explain contestants are timed on it (tests/bench checks the two stay the same customer).
EXPLAIN_CUSTOMER: dict[str, Any] = {
    "credit_score": 619,
    "geography": "Germany",
    "gender": "Female",
    "age": 58,
    "tenure": 2,
    "balance": 0.0,
    "num_of_products": 3,
    "has_cr_card": 1,
    "is_active_member": 0,
    "estimated_salary": 101348.88,
}


def bankchurn_explain_payload(customers: list[dict[str, Any]], _: np.ndarray) -> Payload:
    """One customer with the default three reasons: the opt-in of app/routes/predict.py."""
    [customer] = customers
    return Payload("/predict?explain=true", json.dumps(customer).encode(), 1)


def litserve_payload(_: list[dict[str, Any]], matrix: np.ndarray) -> Payload:
    return Payload("/predict", json.dumps({"features": matrix.tolist()}).encode(), len(matrix))


def litserve_probabilities(answer: Any) -> list[float]:
    return [float(p) for p in answer["probabilities"]]


def rayserve_payload(_: list[dict[str, Any]], matrix: np.ndarray) -> Payload:
    return Payload("/predict", json.dumps({"features": matrix.tolist()}).encode(), len(matrix))


def rayserve_probabilities(answer: Any) -> list[float]:
    return [float(p) for p in answer["probabilities"]]


def bankchurn_v2_payload(customers: list[dict[str, Any]], _: np.ndarray) -> Payload:
    """The Open Inference Protocol's columnar form: one named input per feature, n values
    each, datatypes from the model metadata's rule (app.v2_codec)."""
    body = {
        "inputs": [
            {
                "name": feature.column,
                "shape": [len(customers)],
                "datatype": declared_datatype(feature),
                "data": [customer[feature.name] for customer in customers],
            }
            for feature in FEATURES
        ],
        "outputs": [{"name": "churn_probability"}],
    }
    return Payload("/v2/models/bankchurn/infer", json.dumps(body).encode(), len(customers))


def bankchurn_v2_probabilities(answer: Any) -> list[float]:
    [output] = [o for o in answer["outputs"] if o["name"] == "churn_probability"]
    return [float(p) for p in output["data"]]
