"""POST /predict: one customer in, probability, decision, risk band and version out."""

from __future__ import annotations

import json

import pytest

from app.risk_bands import risk_band
from bankchurn.schema import FEATURES


def _problems(response) -> list[tuple[tuple, str]]:
    return [(tuple(d["loc"]), d["type"]) for d in response.json()["error"]["details"]]


def test_predict_returns_probability_decision_band_and_version(client, customer, card):
    response = client.post("/predict", json=customer)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id", "churn_probability", "churn", "risk_band", "threshold", "model_version"
    }  # fmt: skip
    assert 0.0 <= body["churn_probability"] <= 1.0
    assert body["threshold"] == card["threshold"]["value"]
    assert body["churn"] is (body["churn_probability"] >= body["threshold"])
    assert body["risk_band"] == risk_band(body["churn_probability"], body["threshold"])
    assert body["model_version"] == card["model_version"]
    assert body["id"] is None


def test_predict_echoes_the_client_id_without_it_changing_the_score(client, customer):
    anonymous = client.post("/predict", json=customer).json()
    named = client.post("/predict", json={**customer, "id": "crm:000123"}).json()

    assert named["id"] == "crm:000123"
    assert named["churn_probability"] == anonymous["churn_probability"]


def test_predict_accepts_the_dataset_column_names_as_aliases(client, customer):
    by_column = {feature.column: customer[feature.name] for feature in FEATURES}

    snake, columns = client.post("/predict", json=customer), client.post("/predict", json=by_column)

    assert columns.status_code == 200
    assert columns.json() == snake.json()


def test_predict_accepts_credit_score_under_either_name(client, customer):
    del customer["credit_score"]
    for name in ("credit_score", "CreditScore"):
        response = client.post("/predict", json={**customer, name: 700})
        assert response.status_code == 200
        assert 0.0 <= response.json()["churn_probability"] <= 1.0


def test_predict_rejects_a_feature_given_under_both_names(client, customer):
    response = client.post("/predict", json={**customer, "CreditScore": 700})

    assert response.status_code == 422
    assert _problems(response) == [(("body", "CreditScore"), "extra_forbidden")]


def test_predict_rejects_string_age(client, customer):
    response = client.post("/predict", json={**customer, "age": "42"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert _problems(response) == [(("body", "age"), "int_type")]
    assert error["details"][0]["msg"] == "Input should be a valid integer"
    # No echo of the payload: neither pydantic's "input" nor the customer's other values.
    assert "input" not in error["details"][0]
    assert "101348.88" not in response.text


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("age", "42", "int_type"),
        ("age", 42.5, "int_from_float"),
        ("has_cr_card", True, "int_type"),
        ("balance", "0", "float_type"),
        ("age", 17, "greater_than_equal"),
        ("age", 121, "less_than_equal"),
        ("credit_score", 901, "less_than_equal"),
        ("has_cr_card", 2, "less_than_equal"),
        ("balance", -0.01, "greater_than_equal"),
        ("geography", "france", "literal_error"),
        ("geography", "Italy", "literal_error"),
        ("gender", None, "literal_error"),
        ("id", "has spaces", "string_pattern_mismatch"),
        ("id", 42, "string_type"),
    ],
)
def test_predict_rejects_values_outside_the_schema(client, customer, field, value, problem):
    response = client.post("/predict", json={**customer, field: value})

    assert response.status_code == 422
    assert _problems(response) == [(("body", field), problem)]


def test_predict_accepts_a_whole_number_written_as_a_float(client, customer):
    """JSON has one number type and JSON Schema's "integer" includes 42.0."""
    as_int = client.post("/predict", json=customer)
    as_float = client.post("/predict", json={**customer, "age": 42.0, "has_cr_card": 1.0})

    assert as_float.status_code == 200
    assert as_float.json() == as_int.json()


def test_predict_rejects_a_non_finite_balance(client, customer):
    body = json.dumps({**customer, "balance": 1.0}).replace("1.0", "NaN")

    response = client.post("/predict", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 422
    assert _problems(response) == [(("body", "balance"), "finite_number")]


def test_predict_rejects_a_missing_feature(client, customer):
    del customer["tenure"]

    response = client.post("/predict", json=customer)

    assert response.status_code == 422
    assert _problems(response) == [(("body", "tenure"), "missing")]


def test_predict_rejects_a_misspelt_feature_instead_of_ignoring_it(client, customer):
    customer["tenur"] = customer.pop("tenure")

    response = client.post("/predict", json=customer)

    assert response.status_code == 422
    assert sorted(_problems(response)) == [
        (("body", "tenur"), "extra_forbidden"),
        (("body", "tenure"), "missing"),
    ]


@pytest.mark.parametrize("identifier", ["CustomerId", "Surname", "RowNumber", "Exited"])
def test_predict_rejects_identifiers_and_the_target(client, customer, identifier):
    response = client.post("/predict", json={**customer, identifier: 1})

    assert response.status_code == 422
    assert _problems(response) == [(("body", identifier), "extra_forbidden")]


def test_predict_applies_the_threshold_override(make_client, customer):
    client = make_client(threshold=0.001)

    body = client.post("/predict", json=customer).json()

    assert body["threshold"] == 0.001
    assert body["churn"] is (body["churn_probability"] >= 0.001)
    assert body["risk_band"] == risk_band(body["churn_probability"], 0.001)


@pytest.mark.parametrize(
    ("probability", "band"),
    [
        (0.0, "low"),
        (0.199, "low"),
        (0.2, "medium"),
        (0.399, "medium"),
        (0.4, "high"),
        (1.0, "high"),
    ],
)
def test_risk_band_is_high_at_threshold_medium_from_half_of_it(probability, band):
    assert risk_band(probability, threshold=0.4) == band


def test_predict_more_products_and_inactivity_do_not_lower_churn(client, customer):
    """Direction check on the served model: the data's two strongest churn signals."""
    calm = {**customer, "num_of_products": 2, "is_active_member": 1}
    risky = {**customer, "num_of_products": 4, "is_active_member": 0}

    calm_p = client.post("/predict", json=calm).json()["churn_probability"]
    risky_p = client.post("/predict", json=risky).json()["churn_probability"]

    assert risky_p > calm_p


def test_predict_logs_no_feature_values_by_default(client, customer, capsys):
    client.post("/predict", json={**customer, "estimated_salary": 123456.78, "id": "c-7"})

    log = capsys.readouterr().err
    assert [json.loads(line)["route"] for line in log.splitlines()] == ["/predict"]
    assert "123456.78" not in log
    assert "bankchurn.api.predictions" not in log


def test_predict_logs_features_only_when_asked_to(make_client, customer, capsys):
    client = make_client(log_features=True)

    client.post("/predict", json={**customer, "estimated_salary": 123456.78, "id": "c-7"})

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [logged] = [line for line in lines if line["logger"] == "bankchurn.api.predictions"]
    assert logged["client_id"] == "c-7"
    assert logged["features"]["estimated_salary"] == 123456.78
    assert set(logged["features"]) == {feature.name for feature in FEATURES}
