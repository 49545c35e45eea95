"""POST /predict/batch: many customers, answers in input order, all-or-nothing validation."""

from __future__ import annotations

from typing import Any

import pytest


def _customers(base: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """Distinct customers (ages, products, activity vary), each with an id."""
    return [
        {
            **base,
            "age": 20 + 7 * i,
            "num_of_products": 1 + i % 4,
            "is_active_member": i % 2,
            "id": f"c-{i}",
        }
        for i in range(count)
    ]


def test_batch_preserves_order_and_equals_single_predictions(client, customer, card):
    customers = _customers(customer, 8)

    response = client.post("/predict/batch", json={"customers": customers})

    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == card["model_version"]
    assert body["threshold"] == card["threshold"]["value"]
    assert [p["id"] for p in body["predictions"]] == [c["id"] for c in customers]
    singles = [client.post("/predict", json=c).json() for c in customers]
    assert body["predictions"] == singles
    assert len({p["churn_probability"] for p in singles}) > 1  # the rows really differ


def test_batch_error_names_the_index_and_the_field(client, customer):
    customers = _customers(customer, 5)
    customers[3]["age"] = "forty"

    response = client.post("/predict/batch", json={"customers": customers})

    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {"loc": ["body", "customers", 3, "age"], "msg": "Input should be a valid integer",
         "type": "int_type"}
    ]  # fmt: skip
    assert "c-0" not in response.text  # other customers are not echoed


def test_batch_of_the_maximum_size_is_accepted(make_client, customer):
    client = make_client(max_batch=3)

    response = client.post("/predict/batch", json={"customers": _customers(customer, 3)})

    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 3


def test_batch_over_the_maximum_size_is_413(make_client, customer):
    client = make_client(max_batch=3)

    response = client.post("/predict/batch", json={"customers": _customers(customer, 4)})

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "batch_too_large"
    assert "at most 3" in error["message"]
    assert error["details"] == [
        {"loc": ["body", "customers"], "msg": "List should have at most 3 items, not 4",
         "type": "too_long"}
    ]  # fmt: skip


def test_default_maximum_batch_is_one_thousand(client, customer):
    too_many = {"customers": [customer] * 1_001}

    assert client.post("/predict/batch", json={"customers": [customer] * 1_000}).status_code == 200
    assert client.post("/predict/batch", json=too_many).status_code == 413


@pytest.mark.parametrize(
    ("body", "loc", "problem"),
    [
        ({"customers": []}, ["body", "customers"], "too_short"),
        ({}, ["body", "customers"], "missing"),
        ([], ["body"], "model_attributes_type"),
        ({"customers": [{}], "extra": 1}, ["body", "extra"], "extra_forbidden"),
    ],
)
def test_batch_rejects_malformed_bodies(client, body, loc, problem):
    response = client.post("/predict/batch", json=body)

    assert response.status_code == 422
    assert [loc, problem] in [[d["loc"], d["type"]] for d in response.json()["error"]["details"]]
