"""Every way a V2 inference request can be wrong: 400/415 in the protocol's shape, naming
the input and the element, and nothing scored (the same checks as /predict)."""

from __future__ import annotations

import json

import pytest

from app import metrics as names
from tests.api.v2_requests import INFER, customers, v2_body, with_input


def _error(client, body, status=400, **kwargs):
    response = client.post(INFER, json=body, **kwargs)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    return response.json()["error"]


BASE = v2_body(customers(3))


# fmt: off
# One input's tensor is wrong: (id, the input, what changes in it, what the error says).
TENSOR_MISTAKES = [
    ("out-of-range", "Age", {"data": [30, 130, 32]},
     "inputs[3].data[1]: Age should be less than or equal to 120"),
    ("unknown-category", "Geography", {"data": ["France", "Italy", "Spain"]},
     "inputs[1].data[1]: Geography should be 'France', 'Germany' or 'Spain'"),
    ("fraction-for-a-whole-number", "Age", {"datatype": "FP64", "data": [30, 42.5, 32]},
     "inputs[3].data[1]: Age should be a whole number, got one with a fractional part"),
    ("string-in-an-integer-tensor", "Age", {"data": [30, "31", 32]},
     "inputs[3].data[1]: Age should be an integer of datatype INT64"),
    ("boolean-in-an-integer-tensor", "Age", {"data": [30, True, 32]},
     "inputs[3].data[1]: Age should be an integer of datatype INT64"),
    ("string-in-a-float-tensor", "Balance", {"data": [0.0, "1.5", 2.5]},
     "inputs[5].data[1]: Balance should be a number of datatype FP64"),
    ("float-in-an-integer-tensor", "Balance", {"data": [0.0, 1.5, 2.5], "datatype": "INT64"},
     "inputs[5].data[1]: Balance should be an integer of datatype INT64"),
    ("number-in-a-bytes-tensor", "Gender", {"data": ["Female", 1, "Male"]},
     "inputs[2].data[1]: Gender should be a string"),
    ("categorical-sent-as-numbers", "Geography", {"datatype": "INT64", "data": [0, 1, 2]},
     "inputs[1].datatype: Geography is INT64; send it as BYTES"),
    ("number-sent-as-strings", "Age", {"datatype": "BYTES", "data": ["30", "31", "32"]},
     "inputs[3].datatype: Age is BYTES; send it as INT64"),
    ("shape-disagrees-with-data", "Age", {"shape": [2]},
     "inputs[3].data: Age has shape [2] but 3 values"),
    ("two-values-per-customer", "Age", {"shape": [3, 2]},
     "inputs[3].shape: Age has shape [3, 2]; send [n] or [n, 1] for n >= 1 customers"),
    ("different-row-counts", "Age", {"shape": [2], "data": [30, 31]},
     "inputs: inputs hold different numbers of customers: CreditScore 3, Geography 3, "
     "Gender 3, Age 2,"),
    ("not-a-datatype", "Age", {"datatype": "INT65"},
     "inputs[3].datatype: Input should be 'BOOL', 'UINT8',"),
]
# fmt: on


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        *(
            pytest.param(with_input(BASE, name, **changes), expected, id=case)
            for case, name, changes, expected in TENSOR_MISTAKES
        ),
        pytest.param(
            with_input(v2_body([]), "Age"),
            "inputs[0].shape: CreditScore has shape [0]; send [n] or [n, 1] for n >= 1 customers",
            id="no-customers",
        ),
        pytest.param(
            {
                "inputs": [
                    {**i, "name": "Age"} if i["name"] == "Tenure" else i for i in BASE["inputs"]
                ]
            },
            "inputs[4].name: Age is given twice; inputs: missing input(s): Tenure",
            id="duplicate-input",
        ),
        pytest.param(
            {"inputs": [i for i in BASE["inputs"] if i["name"] != "Balance"]},
            "inputs: missing input(s): Balance",
            id="missing-input",
        ),
        pytest.param(
            {"inputs": [*BASE["inputs"], {**BASE["inputs"][0], "name": "CustomerId"}]},
            "inputs[10].name: 'CustomerId' is not an input of this model; its inputs are "
            "CreditScore, Geography,",
            id="unknown-input",
        ),
        pytest.param(
            {
                "inputs": [
                    {**i, "name": i["name"].lower()} if i["name"] == "Age" else i
                    for i in BASE["inputs"]
                ]
            },
            "inputs[3].name: 'age' is not an input of this model",
            id="input-name-case",
        ),
        pytest.param(
            {**BASE, "outputs": [{"name": "predict_proba"}]},
            "outputs[0].name: 'predict_proba' is not an output of this model; its outputs are "
            "churn_probability, churn, risk_band",
            id="unknown-output",
        ),
        pytest.param(
            {"inputs": []},
            "The request is invalid (1 problem(s)): inputs: List should have at least 1 item",
            id="no-inputs",
        ),
        pytest.param(
            {**BASE, "input": []},
            "input: Extra inputs are not permitted",
            id="unknown-key",
        ),
        pytest.param(
            {**BASE, "id": "has spaces"},
            "id: String should match pattern",
            id="unsafe-id",
        ),
    ],
)
def test_each_invalid_request_is_400_naming_where(client, scrape, body, expected):
    error = _error(client, body)
    assert expected in error
    assert scrape(client).total(names.PREDICTIONS_TOTAL) == 0


def test_every_problem_is_listed_up_to_twenty(client):
    body = with_input(v2_body(customers(25)), "Age", data=[200] * 25)
    error = _error(client, body)
    assert error.startswith("The inference request is invalid (25 problem(s)): ")
    assert "inputs[3].data[19]: Age should be" in error
    assert "inputs[3].data[20]" not in error
    assert error.endswith("; and 5 more")


def test_not_a_number_is_refused_as_on_predict(client):
    body = json.dumps(v2_body(customers(1))).replace("101348.88", "NaN")
    response = client.post(INFER, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert (
        "inputs[9].data[0]: EstimatedSalary should be a finite number" in response.json()["error"]
    )


def test_a_key_given_twice_is_refused(client):
    body = json.dumps(v2_body(customers(1)))[:-1] + ', "id": "a", "id": "b"}'
    response = client.post(INFER, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "appears more than once" in response.json()["error"]


def test_a_body_that_is_not_json_is_400(client):
    response = client.post(INFER, content=b"{inputs", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert set(response.json()) == {"error"}


def test_another_media_type_is_415(client):
    response = client.post(INFER, content=json.dumps(BASE), headers={"content-type": "text/csv"})
    assert response.status_code == 415
    assert "accepts application/json only" in response.json()["error"]


def test_a_body_without_content_type_is_read_as_json(client):
    """The protocol's body is JSON; tritonclient's HTTP client sends no Content-Type."""
    response = client.post(INFER, content=json.dumps(BASE).encode())
    assert response.status_code == 200, response.text


def test_the_binary_tensor_extension_is_refused_with_what_to_do(client):
    header = json.dumps(BASE).encode()
    response = client.post(
        INFER,
        content=header + b"\x00" * 8,
        headers={"Inference-Header-Content-Length": str(len(header))},
    )
    assert response.status_code == 415
    assert "binary_data=False" in response.json()["error"]


def test_the_native_api_keeps_its_own_error_shape(client, customer):
    response = client.post("/predict", json={**customer, "age": 130})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
