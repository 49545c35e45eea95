"""Real ``uvicorn app.fastapi_app:app`` processes on loopback: what TestClient cannot show.

Graceful shutdown, several workers sharing metrics, a broken model in a live process,
uvicorn's access log replaced by ours.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from app import metrics as names
from tests.api.uvicorn_server import raw_predict


def test_server_answers_predictions_and_writes_its_own_access_log(serve, customer, card):
    server = serve()  # no --no-access-log: the app silences uvicorn's access log itself
    server.wait_for("/ready", 200)

    response = server.http.post("/predict", json=customer, headers={"X-Request-ID": "r-1"})

    assert response.status_code == 200
    assert response.json()["model_version"] == card["model_version"]
    assert response.headers["x-request-id"] == "r-1"
    # The access line is written once the response has gone out: give a busy machine a moment.
    [access] = server.eventually(
        lambda: [ln for ln in server.json_lines() if ln.get("request_id") == "r-1"] or None,
        "the access line of request r-1",
        timeout=5,
    )
    assert access["logger"] == "bankchurn.api.access"
    assert (access["method"], access["route"], access["status"]) == ("POST", "/predict", 200)
    assert '"POST /predict HTTP/1.1" 200' not in server.log()  # uvicorn's own access line
    assert str(customer["estimated_salary"]) not in server.log()


def test_server_with_a_tampered_model_stays_up_unready(serve, model_copy, customer):
    with (model_copy / "model.joblib").open("ab") as artifact:
        artifact.write(b"tampered")
    server = serve(BANKCHURN_MODEL_DIR=str(model_copy))

    health = server.wait_for("/health", 200)

    def settled() -> httpx.Response | None:
        ready = server.http.get("/ready")
        return None if ready.json()["error"]["reason"] == "loading" else ready

    ready = server.eventually(settled, "/ready to stop saying loading")
    time.sleep(1)  # long enough for a crash or a restart loop to show

    assert health.json() == {"status": "ok"}
    assert ready.status_code == 503
    assert ready.json()["error"]["reason"] == "checksum_mismatch"
    prediction = server.http.post("/predict", json=customer)
    assert prediction.status_code == 503
    assert prediction.json()["error"]["reason"] == "checksum_mismatch"
    assert server.process.poll() is None
    [failure] = [line for line in server.json_lines() if line["level"] == "ERROR"]
    assert failure["message"].startswith("model not loaded (checksum_mismatch): ")
    assert "sha256" in failure["message"]


def _read_http_response(connection: socket.socket) -> tuple[int, dict]:
    data = b""
    while chunk := connection.recv(65536):  # the server closes the connection when done
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_server_cuts_off_a_chunked_body_over_the_limit(serve, customer):
    server = serve("--no-access-log", BANKCHURN_MAX_BODY_BYTES="4096")
    server.wait_for("/ready", 200)
    chunk = (json.dumps(customer) + ",").encode()
    head = (
        b"POST /predict/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )

    parts = [b'{"customers": [', *[chunk] * 24]  # ~6 kB in chunks, no Content-Length
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts)

    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        # One write, and the body left unfinished: the server must stop on the bytes it
        # has counted, and has read everything we sent by the time it closes.
        connection.sendall(head + chunked)
        status, body = _read_http_response(connection)

    assert status == 413
    assert body["error"]["code"] == "payload_too_large"
    assert "4096 bytes" in body["error"]["message"]


def test_sigterm_drains_then_lets_an_in_flight_request_finish(serve, customer):
    server = serve("--no-access-log", BANKCHURN_DRAIN_SECONDS="0.6")
    server.wait_for("/ready", 200)
    head, body = raw_predict(customer)

    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(head + body[:20])  # in flight: headers read, body incomplete
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        # Draining: still answering new connections, but no longer ready, and closing.
        ready = httpx.get(f"{server.url}/ready", timeout=5)
        time.sleep(1.0)  # the drain is over
        assert server.process.poll() is None  # still waiting for our request
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
            refused = False
        except ConnectionRefusedError:
            refused = True
        connection.sendall(body[20:])
        status, prediction = _read_http_response(connection)

    assert ready.status_code == 503
    assert ready.json()["error"]["reason"] == "shutting_down"
    assert ready.headers["connection"] == "close"
    assert refused  # no new connections once the drain is over
    assert status == 200
    assert 0.0 <= prediction["churn_probability"] <= 1.0
    # The drain stops uvicorn itself (not by re-raising SIGTERM), so the exit is clean.
    assert server.process.wait(timeout=30) == 0
    messages = [line["message"] for line in server.json_lines()]
    assert "Application shutdown complete." in messages


def test_metrics_of_several_workers_add_up(serve_workers, customer, scrape):
    server = serve_workers(2)
    workers = server.wait_for_workers(2)
    requests = 40

    def predict(_: int) -> int:  # a new connection each time (see Server.http)
        return server.http.post("/predict", json=customer).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(predict, range(requests)))
    metrics = scrape(server.http)

    assert statuses == [200] * requests
    serving_pids = {line["pid"] for line in server.json_lines() if line.get("route") == "/predict"}
    assert serving_pids == workers  # both workers answered
    assert metrics.total(names.PREDICTIONS_TOTAL) == requests
    assert metrics.value(names.HTTP_REQUESTS_TOTAL, handler="/predict", method="POST",
                         status="200") == requests  # fmt: skip
    assert metrics.value(f"{names.CHURN_PROBABILITY}_count") == requests
    assert metrics.value(names.MODEL_READY) == 1  # livemin over both workers
    assert metrics.total(names.MODEL_INFO) == 1  # livemax: one series, no pid label

    server.close()  # SIGTERM: both workers stop their model state
    # prometheus_client cannot clear labels in multiprocess mode and says so on stderr.
    assert "has not been implemented in multi-process mode" not in server.log()
