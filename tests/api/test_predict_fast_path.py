"""The prediction routes' fast path (app/predict_fast_path.py) answers exactly as the routes do.

Each request below goes to two apps on the committed model, one with the fast path (the
default) and one with BANKCHURN_PREDICT_FAST_PATH=false: status, headers and body must be
byte for byte the same, and so must what the requests leave in /metrics. Then the fast
path must really be the one answering the ordinary requests, and only those.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

KEY = "fast-path-k3y-0123456789"
JSON_TYPE = {"content-type": "application/json"}
LIMITS = {"max_batch": 3, "max_body_bytes": 4_096}


def _body(document: Any) -> bytes:
    return json.dumps(document).encode()


def _requests(customer: dict[str, Any]) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(method, url, headers, body): ordinary requests, and every way out of the fast path."""
    json_type = {"content-type": "application/json"}
    one, batch = _body(customer), _body({"customers": [customer, {**customer, "id": "b"}]})
    twice = _body(customer)[:-1] + b', "age": 99}'
    return [
        ("POST", "/predict", json_type, one),
        ("POST", "/predict", json_type, _body({**customer, "id": "c-1"})),
        ("POST", "/predict", {"content-type": "application/vnd.bank+json; charset=utf-8"}, one),
        ("POST", "/predict/batch", json_type, batch),
        ("POST", "/predict?explain=true&k=2", json_type, one),
        ("POST", "/predict/batch?explain=true", json_type, batch),
        ("POST", "/predict", json_type, _body({**customer, "age": -1})),
        ("POST", "/predict", json_type, _body({**customer, "Surname": "x"})),
        ("POST", "/predict", json_type, _body({k: v for k, v in customer.items() if k != "age"})),
        ("POST", "/predict", json_type, twice),
        ("POST", "/predict", json_type, b"{not json"),
        ("POST", "/predict", json_type, b""),
        ("POST", "/predict", {"content-type": "text/plain"}, one),
        ("POST", "/predict", {}, one),
        ("POST", "/predict/batch", json_type, _body({"customers": []})),
        ("POST", "/predict/batch", json_type, _body({"customers": [customer] * 4})),
        ("POST", "/predict/batch", json_type, _body({"customers": [customer] * 40})),
        ("POST", "/predict/batch", json_type, _body([customer])),
        ("GET", "/predict", {}, b""),
        *(("POST", url, json_type, body) for url, body in _counted_bodies(customer)),
    ]


def _counted_bodies(customer: dict[str, Any]) -> list[tuple[str, bytes]]:
    """Bodies the fast path takes apart with orjson, which keeps a repeated key's last value
    silently: the routes' 422 must still come for each repetition, and a 200 for the rest."""
    one = _body(customer)
    renamed = {("Age" if key == "age" else key): value for key, value in customer.items()}
    return [
        ("/predict", one[:-1] + b', "Age": 99}'),  # the same field by its two names
        ("/predict", one[:-1] + b', "id": "a", "id": "b"}'),  # a repeated string value
        ("/predict", one[:-1] + b', "geography": "Spain"}'),
        ("/predict", one[:-1] + b', "\\u0061ge": 99}'),  # "age" again, escaped
        ("/predict", one.replace(b'"age"', b'"\\u0061ge"')),  # escaped once: in order
        ("/predict", json.dumps(customer, indent=2).encode()),  # whitespace everywhere
        ("/predict", _body(renamed)),
        ("/predict", _body({**customer, "id": None})),
        ("/predict", _body({**customer, "age": 42.0})),
        ("/predict", _body({**customer, "balance": 1e400})),  # inf to json, refused
        ("/predict", one[:-1] + b', "balance": NaN}'),
        ("/predict", _body({**customer, "age": 2**70})),
        ("/predict", one.decode().encode("utf-16")),
        ("/predict/batch", b'{"customers": [' + one + b'], "customers": [' + one + b"]}"),
        ("/predict/batch", b'{"customers": [' + one + b", " + one[:-1] + b', "tenure": 3}]}'),
    ]


def _answer(client: Any, method: str, url: str, headers: dict[str, str], body: bytes) -> tuple:
    sent = {"x-request-id": "same-id-both-ways", **headers}
    response = client.request(method, url, headers=sent, content=body)
    return response.status_code, response.headers.multi_items(), response.content


@pytest.fixture
def both_ways(make_client: Any) -> tuple[TestClient, TestClient]:
    return make_client(**LIMITS), make_client(predict_fast_path=False, **LIMITS)


def test_every_request_gets_the_same_answer_and_metrics_both_ways(both_ways, customer, scrape):
    fast, routed = both_ways
    for method, url, headers, body in _requests(customer):
        assert _answer(fast, method, url, headers, body) == _answer(
            routed, method, url, headers, body
        ), (method, url, headers, body[:80])
    # A body sent in pieces (chunked) is read whole before it is parsed.
    pieces = [b'{"customers": [', _body(customer), b"]}"]
    chunked = [
        client.post("/predict/batch", content=iter(pieces), headers=JSON_TYPE)
        for client in (fast, routed)
    ]
    assert chunked[0].status_code == 200
    assert chunked[0].json() == chunked[1].json()
    assert _counted(scrape(fast)) == _counted(scrape(routed))


def _counted(metrics: Any) -> list[tuple[str, list[tuple[str, str]], float]]:
    """The counters the requests moved (durations aside, which differ by nature; /ready
    aside, polled until the model loaded)."""
    names = ("http_requests_total", "bankchurn_predictions_total", "bankchurn_feature_bin_total")
    counted = [
        (name, sorted(labels.items()), value)
        for name, labels, value in metrics.samples
        if name in names and labels.get("handler", "/predict").startswith("/predict")
    ]
    assert any(name == "bankchurn_feature_bin_total" and value for name, _, value in counted)
    return sorted(counted)


def test_api_keys_are_checked_the_same_both_ways(make_client, customer):
    hashes = (hashlib.sha256(KEY.encode()).hexdigest(),)
    fast, routed = (
        make_client(api_key_hashes=hashes),
        make_client(api_key_hashes=hashes, predict_fast_path=False),
    )
    json_type = {"content-type": "application/json"}
    for authorization in (
        None,
        f"Bearer {KEY}",
        f"bearer {KEY}",
        "Bearer wrong",
        f"Basic {KEY}",
        "Bearer",
    ):
        headers = (
            json_type if authorization is None else {**json_type, "authorization": authorization}
        )
        answers = [_answer(c, "POST", "/predict", headers, _body(customer)) for c in (fast, routed)]
        assert answers[0] == answers[1], authorization
        accepted = (authorization or "").lower() == f"bearer {KEY}".lower()
        assert answers[0][0] == (200 if accepted else 401)


def test_no_model_is_the_routes_503_both_ways(make_client, tmp_path, customer):
    fast, routed = (make_client(model_dir=tmp_path, predict_fast_path=on) for on in (True, False))
    answers = [_answer(c, "POST", "/predict", JSON_TYPE, _body(customer)) for c in (fast, routed)]
    assert answers[0] == answers[1]
    assert answers[0][0] == 503


class _Routed:
    """The app behind a second client, noting for each request whether FastAPI's router
    handled it: the router leaves the endpoint it chose in the request's scope."""

    def __init__(self, client: TestClient) -> None:
        self.app, self.endpoints = client.app, []
        self.client = TestClient(self)  # the app is started (and stopped) by ``client``

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        self.endpoints.append(getattr(scope.get("endpoint"), "__name__", None))


def test_the_fast_path_answers_ordinary_requests_and_hands_on_the_rest(both_ways, customer):
    fast, routed = (_Routed(client) for client in both_ways)
    for app in (fast, routed):
        assert app.client.post("/predict", json=customer).status_code == 200
        assert app.client.post("/predict/batch", json={"customers": [customer]}).status_code == 200
    assert fast.endpoints == [None, None]
    assert routed.endpoints == ["predict", "predict_batch"]
    # Whitespace around every token and whole numbers written as floats are still ordinary.
    for body in (json.dumps(customer, indent=2).encode(), _body({**customer, "age": 42.0})):
        assert fast.client.post("/predict", content=body, headers=JSON_TYPE).status_code == 200
    handed_on = [
        ("/predict?explain=true", _body(customer)),
        ("/predict", _body({**customer, "age": "42"})),
        ("/predict/batch", _body({"customers": [customer] * 4})),
        ("/predict", _body(customer)[:-1] + b', "age": 42}'),  # repeated: the route's 422
        ("/predict", _body(customer).replace(b'"age"', b'"\\u0061ge"')),  # a backslash: 200
    ]
    for url, body in handed_on:
        fast.client.post(url, content=body, headers=JSON_TYPE)
    assert fast.endpoints[2:] == [
        None,
        None,
        "predict",
        "predict",
        "predict_batch",
        "predict",
        "predict",
    ]


def test_a_test_that_overrides_a_dependency_gets_the_route(make_client, customer):
    from app.dependencies import get_loaded_model

    app = _Routed(make_client())
    model = app.app.state.model_state.model
    app.app.dependency_overrides[get_loaded_model] = lambda: model
    assert app.client.post("/predict", json=customer).status_code == 200
    assert app.endpoints == ["predict"]
