"""Requests the JSON grammar allows but the service must not guess about.

A key given twice (json keeps the last one silently), a body that is not JSON at all,
NaN or Infinity where a whole number belongs: each gets a specific answer in the one
error shape. HEAD works wherever a load balancer or uptime checker probes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.uvicorn_server import Server

JSON = {"content-type": "application/json"}


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert error["request_id"] == response.headers["x-request-id"]
    return error


def test_a_key_given_twice_is_refused_naming_it(
    client: TestClient, customer: dict[str, Any]
) -> None:
    body = json.dumps(customer)[:-1] + ', "age": 99}'
    error = _error(client.post("/predict", content=body, headers=JSON), 422, "duplicate_key")
    assert error["message"] == (
        "The key 'age' appears more than once in one JSON object; send each key once."
    )
    assert error["details"] == [
        {"loc": ["body", "age"], "msg": "Duplicate key", "type": "duplicate_key"}
    ]


def test_a_key_given_twice_inside_a_batch_is_refused(
    client: TestClient, customer: dict[str, Any]
) -> None:
    row = json.dumps(customer)[:-1] + ', "Age": 1, "credit_score": 700}'
    body = '{"customers": [' + json.dumps(customer) + ", " + row + "]}"
    error = _error(client.post("/predict/batch", content=body, headers=JSON), 422, "duplicate_key")
    assert error["details"][0]["loc"] == ["body", "credit_score"]


def test_a_column_name_and_its_snake_case_twin_are_still_one_each(
    client: TestClient, customer: dict[str, Any]
) -> None:
    # Not a duplicate key (two different keys), so pydantic's own rule decides: accepted
    # under either name, as before.
    response = client.post("/predict", json={**customer, "id": "a"})
    assert response.status_code == 200
    assert response.json()["id"] == "a"


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        ("text/plain", "sent as 'text/plain'"),
        ("application/x-www-form-urlencoded", "sent as 'application/x-www-form-urlencoded'"),
        ("multipart/form-data; boundary=x", "sent as 'multipart/form-data; boundary=x'"),
        (None, "sent without a Content-Type"),
    ],
)
def test_a_body_that_is_not_json_gets_415(
    client: TestClient, customer: dict[str, Any], content_type: str | None, shown: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/predict", content=json.dumps(customer), headers=headers)
    error = _error(response, 415, "unsupported_media_type")
    assert error["message"] == (
        f"The body is {shown}; this endpoint accepts application/json only. "
        "Send JSON with Content-Type: application/json."
    )


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/x+json"])
def test_json_with_parameters_or_a_json_suffix_is_json(
    client: TestClient, customer: dict[str, Any], content_type: str
) -> None:
    response = client.post(
        "/predict", content=json.dumps(customer), headers={"content-type": content_type}
    )
    assert response.status_code == 200, response.text
    assert 0.0 <= response.json()["churn_probability"] <= 1.0


@pytest.mark.parametrize(("token", "shown"), [("NaN", "NaN"), ("Infinity", "Infinity"),
                                               ("-Infinity", "-Infinity")])  # fmt: skip
def test_a_non_finite_number_for_a_whole_number_says_so(
    client: TestClient, customer: dict[str, Any], token: str, shown: str
) -> None:
    body = json.dumps({**customer, "age": "AGE"}).replace('"AGE"', token)
    error = _error(client.post("/predict", content=body, headers=JSON), 422, "validation_error")
    assert error["details"] == [
        {
            "loc": ["body", "age"],
            "msg": f"Input should be a finite whole number, got {shown} (not a number JSON allows)",
            "type": "finite_number",
        }
    ]


@pytest.mark.parametrize("path", ["/health", "/ready"])
def test_head_answers_like_get_without_a_body(client: TestClient, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers["content-type"] == "application/json"


def test_head_ready_is_503_while_the_model_is_unusable(
    make_client: Callable[..., TestClient], model_copy: Path, settle: Callable[[TestClient], None]
) -> None:
    (model_copy / "model.joblib").write_bytes(b"not the model")
    client = make_client(model_dir=model_copy)
    response = client.head("/ready")
    assert response.status_code == 503
    assert response.content == b""


def test_head_on_a_real_server_sends_headers_only(serve: Callable[..., Server]) -> None:
    server = serve("--no-access-log")
    server.wait_for("/ready", 200)
    response = server.http.head("/health")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "15"
