"""One error shape for every failure; request ids; body limits; CORS closed by default."""

from __future__ import annotations

import json

import pytest

from app.dependencies import get_loaded_model
from app.schemas import ErrorResponse


def assert_error(response, status: int, code: str) -> dict:
    """The response is an ``ErrorResponse`` with this status and code, tied to its request."""
    assert response.status_code == status
    error = ErrorResponse.model_validate(response.json()).error
    assert error.code == code
    assert error.request_id == response.headers["x-request-id"]
    return response.json()["error"]


def test_unknown_route_is_404_in_the_error_shape(client):
    error = assert_error(client.get("/predictions"), 404, "not_found")
    assert error["details"] == []


def test_wrong_method_is_405_and_says_what_is_allowed(client):
    response = client.get("/predict")

    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


def test_malformed_json_is_422_with_its_position(client):
    response = client.post(
        "/predict", content=b'{"age": 4', headers={"content-type": "application/json"}
    )

    error = assert_error(response, 422, "validation_error")
    assert error["details"] == [
        {"loc": ["body", 9], "msg": "JSON decode error", "type": "json_invalid"}
    ]


def test_validation_error_names_fields_without_echoing_the_customer(client, customer):
    customer.update(age=-1, surname="Hargrave")

    error = assert_error(client.post("/predict", json=customer), 422, "validation_error")

    assert {tuple(d["loc"]) for d in error["details"]} == {("body", "age"), ("body", "surname")}
    assert all(set(d) == {"loc", "msg", "type"} for d in error["details"])
    assert "Hargrave" not in json.dumps(error)


def test_body_over_the_limit_is_413_before_it_is_read(make_client, customer):
    client = make_client(max_body_bytes=1_024)
    body = {"customers": [customer] * 10}  # about 2.3 kB, Content-Length declared

    error = assert_error(client.post("/predict/batch", json=body), 413, "payload_too_large")
    assert "1024 bytes" in error["message"]


def test_streamed_body_over_the_limit_is_413_without_content_length(make_client, customer):
    client = make_client(max_body_bytes=1_024)
    chunk = json.dumps(customer).encode()

    def chunks():
        yield b'{"customers": ['
        for _ in range(9):
            yield chunk + b","
        yield chunk + b"]}"

    response = client.post(
        "/predict/batch", content=chunks(), headers={"content-type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")


def test_body_under_the_limit_is_served(make_client, customer):
    client = make_client(max_body_bytes=1_024)

    assert client.post("/predict", json=customer).status_code == 200


def test_fault_is_a_generic_500_with_a_request_id(make_client, customer, capsys):
    client = make_client(raise_server_exceptions=False)

    def broken_model():
        raise RuntimeError("secret detail: /srv/keys/model.key")

    client.app.dependency_overrides[get_loaded_model] = broken_model
    response = client.post("/predict", json=customer, headers={"X-Request-ID": "trace-500"})

    error = assert_error(response, 500, "internal_error")
    assert error["request_id"] == "trace-500"
    assert "secret" not in response.text
    assert "RuntimeError" not in response.text
    log = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [fault] = [line for line in log if line["logger"] == "bankchurn.api.errors"]
    assert fault["request_id"] == "trace-500"
    assert "RuntimeError: secret detail" in fault["exc_info"]
    [access] = [line for line in log if line.get("route") == "/predict"]
    assert access["status"] == 500


def test_request_id_is_returned_when_sane(client):
    response = client.get("/health", headers={"X-Request-ID": "abc-123.x:y_z"})

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"] == "abc-123.x:y_z"


@pytest.mark.parametrize("unsafe", ["", "has space", "a" * 65, 'quote"d', "new\\nline"])
def test_request_id_is_replaced_when_unsafe(client, unsafe):
    response = client.get("/health", headers={"X-Request-ID": unsafe})

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    generated = response.headers["x-request-id"]
    assert generated != unsafe
    assert len(generated) == 32
    assert generated.isalnum()


def test_every_response_carries_a_request_id_in_the_access_log(client, capsys):
    response = client.get("/ready")

    [line] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert response.status_code == 200
    assert line["logger"] == "bankchurn.api.access"
    assert line["request_id"] == response.headers["x-request-id"]
    assert (line["method"], line["route"], line["status"]) == ("GET", "/ready", 200)
    assert line["duration_ms"] > 0


def test_cors_is_closed_by_default(client):
    origin = {"Origin": "https://evil.example"}
    preflight = client.options(
        "/predict", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    simple = client.get("/health", headers=origin)

    assert_error(preflight, 405, "method_not_allowed")
    assert simple.status_code == 200
    assert simple.json() == {"status": "ok"}
    for response in (preflight, simple):
        assert "access-control-allow-origin" not in response.headers


def test_cors_allows_only_the_configured_origins(make_client):
    client = make_client(cors_origins=("https://dashboard.example",))
    request = {"Access-Control-Request-Method": "POST"}

    allowed = client.options("/predict", headers={"Origin": "https://dashboard.example", **request})
    refused = client.options("/predict", headers={"Origin": "https://evil.example", **request})

    assert allowed.status_code == 200
    assert allowed.text == "OK"
    assert allowed.headers["access-control-allow-origin"] == "https://dashboard.example"
    # Starlette's CORS middleware answers refused preflights itself, in plain text; browsers
    # never show a preflight's body to the page, so it is left as is.
    assert refused.status_code == 400
    assert refused.text == "Disallowed CORS origin"
    assert "access-control-allow-origin" not in refused.headers
