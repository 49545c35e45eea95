"""?explain=true on /predict and /predict/batch: the top reasons, exact, from the card's
reference customer; refused clearly when they cannot be given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app import metrics as names
from app.settings import SettingsError, get_settings
from bankchurn.explain import baseline_shapley, reference_row
from bankchurn.predictor import load_predictor
from bankchurn.schema import FEATURE_NAMES, encode_records

REASON_KEYS = {"feature", "value", "reference", "contribution", "direction", "text"}
PLAIN_KEYS = {"id", "churn_probability", "churn", "risk_band", "threshold", "model_version"}
AT_RISK = {
    "credit_score": 420, "geography": "Germany", "gender": "Female", "age": 58, "tenure": 1,
    "balance": 125_510.82, "num_of_products": 3, "has_cr_card": 0, "is_active_member": 0,
    "estimated_salary": 40_000.0,
}  # fmt: skip


def contributions_of(prediction: dict[str, Any]) -> dict[str, float]:
    return {reason["feature"]: reason["contribution"] for reason in prediction["reasons"]}


def test_explain_adds_the_top_three_reasons_by_default(client, card) -> None:
    response = client.post("/predict?explain=true", json=AT_RISK)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PLAIN_KEYS | {"reasons", "reference_churn_probability"}
    assert len(body["reasons"]) == 3
    assert all(set(reason) == REASON_KEYS for reason in body["reasons"])
    sizes = [abs(reason["contribution"]) for reason in body["reasons"]]
    assert sizes == sorted(sizes, reverse=True)
    for reason in body["reasons"]:
        assert reason["value"] == AT_RISK[reason["feature"]]
        assert reason["reference"] == card["explanation"]["reference"][reason["feature"]]
        assert reason["direction"] == ("raises" if reason["contribution"] > 0 else "lowers")


def test_all_ten_contributions_add_up_to_the_gap_to_the_reference(client) -> None:
    body = client.post("/predict?explain=true&k=10", json=AT_RISK).json()

    assert [r["feature"] for r in body["reasons"]] != list(FEATURE_NAMES)  # sorted by size
    assert sorted(r["feature"] for r in body["reasons"]) == sorted(FEATURE_NAMES)
    total = sum(contributions_of(body).values())
    assert abs(total - (body["churn_probability"] - body["reference_churn_probability"])) < 1e-9


def test_the_served_contributions_are_the_explain_modules_exactly(client, model_dir) -> None:
    predictor = load_predictor(model_dir)
    reference = reference_row(predictor.card["explanation"]["reference"])
    expected = baseline_shapley(predictor.predict_proba, encode_records([AT_RISK]), reference)

    body = client.post("/predict?explain=true&k=10", json=AT_RISK).json()

    served = contributions_of(body)
    assert [served[name] for name in FEATURE_NAMES] == expected.contributions[0].tolist()
    assert body["reference_churn_probability"] == expected.reference_probability


def test_an_inactive_german_customer_with_three_products_is_told_why(client, card) -> None:
    """Behaviour of the committed model: on a customer like the reference but inactive,
    German and holding 3 products, exactly those three are the reasons, and each raises
    churn; on a customer far from the reference they are still among the top five."""
    typical = {**card["explanation"]["reference"], "geography": "Germany",
               "is_active_member": 0, "num_of_products": 3}  # fmt: skip
    near = client.post("/predict?explain=true&k=10", json=typical).json()
    far = client.post("/predict?explain=true&k=5", json=AT_RISK).json()

    suspects = {"geography", "is_active_member", "num_of_products"}
    assert {r["feature"] for r in near["reasons"][:3]} == suspects
    assert [r["direction"] for r in near["reasons"][:3]] == ["raises"] * 3
    assert [r["contribution"] for r in near["reasons"][3:]] == [0.0] * 7
    top = {r["feature"]: r for r in far["reasons"]}
    assert suspects <= set(top)
    assert {top[name]["direction"] for name in suspects} == {"raises"}
    assert top["is_active_member"]["text"] == "Not an active member"
    assert top["num_of_products"]["text"] == "Holds 3 products, reference 1"


def test_a_plain_prediction_is_unchanged_by_the_explain_feature(client, customer) -> None:
    plain = client.post("/predict", json=customer)
    explicit = client.post("/predict?explain=false", json=customer)

    assert plain.status_code == explicit.status_code == 200
    assert set(plain.json()) == PLAIN_KEYS
    assert explicit.json() == plain.json()


def test_batch_explains_each_customer_as_a_single_call_would(client, customer) -> None:
    customers = [{**customer, "id": "a"}, {**AT_RISK, "id": "b"}]

    response = client.post("/predict/batch?explain=true&k=4", json={"customers": customers})

    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert [p["id"] for p in predictions] == ["a", "b"]
    for sent, prediction in zip(customers, predictions, strict=True):
        single = client.post("/predict?explain=true&k=4", json=sent).json()
        assert prediction == single


@pytest.mark.parametrize("k", ["0", "11", "-1", "three", "2.5"])
def test_k_outside_one_to_ten_is_refused_with_its_field(client, customer, k) -> None:
    response = client.post(f"/predict?explain=true&k={k}", json=customer)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["loc"] for d in error["details"]] == [["query", "k"]]


def test_k_without_explain_changes_nothing(client, customer) -> None:
    plain = client.post("/predict/batch", json={"customers": [customer]})
    with_k = client.post("/predict/batch?k=5", json={"customers": [customer]})

    assert plain.status_code == with_k.status_code == 200
    assert with_k.json() == plain.json()
    assert set(with_k.json()["predictions"][0]) == PLAIN_KEYS


def test_explain_must_be_a_boolean(client, customer) -> None:
    response = client.post("/predict?explain=maybe", json=customer)

    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["error"]["details"]] == [["query", "explain"]]


@pytest.mark.parametrize("path", ["/predict", "/predict/batch"])
def test_query_parameters_read_as_fastapi_reads_them(client, customer, path) -> None:
    """explain/k are parsed by app.explaining, not declared: lax booleans, the last of
    repeated values, unknown parameters ignored, as FastAPI's Query arguments were."""
    body = customer if path == "/predict" else {"customers": [customer]}

    answer = client.post(f"{path}?explain=yes&k=1&k=4&unknown=1", json=body).json()

    prediction = answer if path == "/predict" else answer["predictions"][0]
    assert len(prediction["reasons"]) == 4


def test_a_bad_body_is_reported_before_a_bad_query(client, customer) -> None:
    """The body is validated first; its errors come alone, the query's once it is valid."""
    bad_both = client.post("/predict?explain=true&k=0", json={**customer, "age": "old"})
    bad_query = client.post("/predict?explain=true&k=0", json=customer)

    assert [d["loc"] for d in bad_both.json()["error"]["details"]] == [["body", "age"]]
    assert [d["loc"] for d in bad_query.json()["error"]["details"]] == [["query", "k"]]


def test_explaining_more_than_the_explain_limit_is_refused_with_413(make_client, customer):
    client = make_client(max_explain_batch=2)
    batch = {"customers": [customer] * 3}

    refused = client.post("/predict/batch?explain=true", json=batch)
    plain = client.post("/predict/batch", json=batch)

    assert refused.status_code == 413
    error = refused.json()["error"]
    assert error["code"] == "batch_too_large"
    assert "at most 2 can be explained" in error["message"]
    assert error["details"] == [
        {"loc": ["body", "customers"], "msg": "List should have at most 2 items to explain, "
         "not 3", "type": "too_long"}
    ]  # fmt: skip
    assert plain.status_code == 200  # the limit is on explaining only


def test_the_explain_limit_defaults_to_one_hundred(client, customer) -> None:
    response = client.post("/predict/batch?explain=true&k=1", json={"customers": [customer] * 101})

    assert response.status_code == 413
    assert "at most 100 can be explained" in response.json()["error"]["message"]


def old_format(model_copy: Path) -> Path:
    """The committed model with its card as models trained before reason codes had it."""
    path = model_copy / "model_card.json"
    card = json.loads(path.read_text())
    del card["explanation"]
    path.write_text(json.dumps(card))
    return model_copy


def test_a_model_trained_before_reason_codes_serves_but_refuses_to_explain(
    make_client, model_copy, customer
) -> None:
    client = make_client(model_dir=old_format(model_copy))

    plain = client.post("/predict", json=customer)
    single = client.post("/predict?explain=true", json=customer)
    batch = client.post("/predict/batch?explain=true", json={"customers": [customer]})

    assert plain.status_code == 200
    assert client.get("/model").json()["explanation"] is None
    for refused in (single, batch):
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["code"] == "explanation_unavailable"
        assert "Retrain" in error["message"]
        assert "without explain=true" in error["message"]


def test_a_card_with_an_invalid_reference_customer_is_not_served(make_client, model_copy) -> None:
    path = model_copy / "model_card.json"
    card = json.loads(path.read_text())
    card["explanation"]["reference"]["geography"] = "Atlantis"
    path.write_text(json.dumps(card))

    response = make_client(model_dir=model_copy).get("/ready")

    assert response.status_code == 503
    assert response.json()["error"]["reason"] == "card_invalid"


def test_get_model_shows_the_method_its_definition_and_the_reference(client, card) -> None:
    explanation = client.get("/model").json()["explanation"]

    assert explanation == card["explanation"]
    assert explanation["method"] == "baseline_shapley"
    assert "p(customer) - p(reference)" in explanation["definition"]
    assert "median" in explanation["reference_rule"]


def test_explanations_are_counted_by_backend_and_timed(make_client, customer, scrape) -> None:
    client = make_client()
    client.post("/predict?explain=true", json=customer)
    client.post("/predict/batch?explain=true", json={"customers": [customer] * 3})
    client.post("/predict", json=customer)

    metrics = scrape(client)

    assert metrics.value(names.EXPLANATIONS_TOTAL, backend="sklearn") == 4
    count = names.EXPLANATION_DURATION_SECONDS + "_count"
    assert metrics.value(count, backend="sklearn") == 2
    assert metrics.value(names.EXPLANATION_DURATION_SECONDS + "_sum", backend="sklearn") > 0


def test_the_onnx_backend_explains_like_sklearn(make_client) -> None:
    onnx, sklearn = make_client(backend="onnx"), make_client(backend="sklearn")
    rng = np.random.default_rng(7)
    customers = [
        {**AT_RISK, "age": int(age), "balance": float(balance), "num_of_products": int(n),
         "is_active_member": int(active), "geography": geography}
        for age, balance, n, active, geography in zip(
            rng.integers(18, 90, 40), np.round(rng.random(40) * 250_000, 2),
            rng.integers(1, 5, 40), rng.integers(0, 2, 40),
            rng.choice(["France", "Germany", "Spain"], 40), strict=True)
    ]  # fmt: skip
    batch = {"customers": customers}

    from_onnx = onnx.post("/predict/batch?explain=true&k=10", json=batch)
    from_sklearn = sklearn.post("/predict/batch?explain=true&k=10", json=batch)

    assert from_onnx.status_code == from_sklearn.status_code == 200
    pairs = zip(from_onnx.json()["predictions"], from_sklearn.json()["predictions"], strict=True)
    for a, b in pairs:
        ca, cb = contributions_of(a), contributions_of(b)
        assert max(abs(ca[name] - cb[name]) for name in FEATURE_NAMES) <= 1e-5
        assert a["reference_churn_probability"] == pytest.approx(
            b["reference_churn_probability"], abs=1e-6
        )


def test_openapi_documents_explain_k_and_the_409(client) -> None:
    spec = client.get("/openapi.json").json()

    for path in ("/predict", "/predict/batch"):
        operation = spec["paths"][path]["post"]
        params = {p["name"]: p for p in operation["parameters"]}
        assert set(params) == {"explain", "k"}
        assert params["explain"]["in"] == params["k"]["in"] == "query"
        k_schema = params["k"]["schema"]
        assert (k_schema["minimum"], k_schema["maximum"], k_schema["default"]) == (1, 10, 3)
        assert params["explain"]["schema"]["default"] is False
        assert {"409", "413", "422"} <= set(operation["responses"])
        assert "MAX_EXPLAIN_BATCH" in operation["responses"]["413"]["description"]


@pytest.mark.parametrize(
    ("value", "complaint"),
    [("0", "greater than or equal to 1"), ("1001", "less than or equal to 1000")],
)
def test_an_unsafe_explain_limit_is_refused_at_start_up(monkeypatch, value, complaint) -> None:
    monkeypatch.setenv("BANKCHURN_MAX_EXPLAIN_BATCH", value)

    with pytest.raises(SettingsError) as refused:
        get_settings()

    assert f"BANKCHURN_MAX_EXPLAIN_BATCH={value!r}" in str(refused.value)
    assert complaint in str(refused.value)


def test_the_explain_limit_is_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("BANKCHURN_MAX_EXPLAIN_BATCH", "250")

    assert get_settings().max_explain_batch == 250
