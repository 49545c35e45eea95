"""The limit on requests in flight (app/request_guards.py), on a real uvicorn.

``BANKCHURN_MAX_REQUESTS_IN_FLIGHT`` counts requests whose body has fully arrived and
that are being processed. One more is answered 503 ``overloaded`` with ``Retry-After``
in the error shape, and the connection is closed; the counter is released when a
request ends, so the worker serves again at once. A request still sending its body is
not counted (the body timeout bounds it instead), so slow clients cannot use up the
limit and lock good ones out.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.api.uvicorn_server import Server, raw_predict

LIMIT = 2
CLIENTS = 8  # concurrent 1,000-customer batches, on one worker and its one model thread
BURSTS = 5  # at most, until one burst has gone over the limit


def post(port: int, path: str, body: bytes) -> tuple[int, dict[str, str], Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, json.loads(response.read())
    finally:
        connection.close()


def burst(port: int, body: bytes) -> list[tuple[int, dict[str, str], Any]]:
    """CLIENTS batch requests sent at the same moment; their answers."""
    start = threading.Barrier(CLIENTS)
    answers: list[tuple[int, dict[str, str], Any]] = []

    def client() -> None:
        start.wait()
        answers.append(post(port, "/predict/batch", body))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == CLIENTS, answers
    return answers


def test_requests_over_the_in_flight_limit_get_503_with_retry_after(
    serve: Callable[..., Server], customer: dict[str, Any]
) -> None:
    server = serve("--no-access-log", BANKCHURN_MAX_REQUESTS_IN_FLIGHT=str(LIMIT))
    server.wait_for("/ready", 200)
    body = json.dumps({"customers": [customer] * 1_000}).encode()

    answers: list[tuple[int, dict[str, str], Any]] = []
    for _ in range(BURSTS):
        answers += burst(server.port, body)
        if any(status == 503 for status, _, _ in answers):
            break

    statuses = sorted(status for status, _, _ in answers)
    print(f"in-flight limit {LIMIT}: {len(answers)} batches sent, statuses {statuses}")
    assert 503 in statuses, f"{CLIENTS} concurrent batches never went over {LIMIT}: {statuses}"
    assert 200 in statuses, statuses
    for status, headers, payload in answers:
        if status == 200:
            assert len(payload["predictions"]) == 1_000
            continue
        assert status == 503, payload
        assert headers["retry-after"] == "1"
        assert headers["connection"] == "close"
        assert set(payload["error"]) == {"code", "message", "request_id", "reason", "details"}
        assert payload["error"]["code"] == "overloaded"
        assert payload["error"]["message"] == (
            f"This worker is processing its maximum of {LIMIT} requests; retry after 1 s."
        )
        assert payload["error"]["request_id"] == headers["x-request-id"]
    # Every refused and answered request gave its place back: the worker serves again.
    for _ in range(LIMIT + 1):
        status, _, payload = post(server.port, "/predict", json.dumps(customer).encode())
        assert status == 200, payload


def test_bodies_still_arriving_do_not_use_up_the_limit(
    serve: Callable[..., Server], customer: dict[str, Any]
) -> None:
    server = serve("--no-access-log", BANKCHURN_MAX_REQUESTS_IN_FLIGHT=str(LIMIT))
    server.wait_for("/ready", 200)
    head, body = raw_predict(customer)
    slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(5 * LIMIT)]
    try:
        for sock in slow:
            sock.sendall(head + body[:10])  # headers in, the body never finished
        time.sleep(0.3)  # the server has read their headers and is awaiting their bodies
        for _ in range(5):
            status, _, payload = post(server.port, "/predict", body)
            assert status == 200, payload
            assert 0.0 <= payload["churn_probability"] <= 1.0
    finally:
        for sock in slow:
            sock.close()
