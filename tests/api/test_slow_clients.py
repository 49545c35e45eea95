"""Slow clients are bounded, and good clients keep their latency meanwhile.

A real uvicorn started as the images start it (docker/serve.py, so the service's HTTP
protocol), with short limits so the test takes seconds: headers within 1 s, bodies
within 1.5 s, 150 connections. 200 slow connections open: 100 send half their headers
and stop, then 100 send full headers but only part of their body. The last 50 are over
the cap. Meanwhile a good keep-alive client keeps predicting. Then:

- over-cap connections are answered 503 ``overloaded`` with ``Retry-After`` at once;
- slow headers get 408 ``request_timeout`` after the header timeout, slow bodies after
  the body timeout, each in the error shape and with the connection closed;
- the good client got every answer, at a latency close to its own before the flood;
- the server's memory grew by a few MB at most.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tooling.net import free_port, wait_until
from tooling.paths import REPO_ROOT

SLOW = 100  # of each kind
CAP = 150
HEADER_TIMEOUT, BODY_TIMEOUT = 1.0, 1.5


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


@pytest.fixture
def guarded_server(model_dir: Path, tmp_path: Path) -> Any:
    port = free_port()
    env = {
        **os.environ,
        "BANKCHURN_MODEL_DIR": str(model_dir),
        "BANKCHURN_BACKEND": "onnx",
        "BANKCHURN_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "BANKCHURN_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "BANKCHURN_MAX_CONNECTIONS": str(CAP),
    }
    log_path = tmp_path / "server.log"
    command = [sys.executable, "docker/serve.py", "app.fastapi_app:app", "--host",
               "127.0.0.1", "--port", str(port), "--no-access-log"]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:

        def ready() -> bool | None:
            assert process.poll() is None, log_path.read_text()
            return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200 or None

        # TransportError: not listening yet.
        assert wait_until(ready, timeout=60, interval=0.05, ignore=(httpx.TransportError,)), (
            f"the server was not ready within 60 s:\n{log_path.read_text()}"
        )
        yield process, port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def read_reply(sock: socket.socket) -> tuple[int | None, dict[str, str], Any, bool]:
    """Status, headers, JSON body and whether the server then closed the connection."""
    sock.settimeout(5)
    data, closed = b"", False
    try:
        while chunk := sock.recv(65536):
            data += chunk
        closed = True  # recv returned b"": the server closed the connection
    except ConnectionResetError:
        closed = True
    except TimeoutError:
        pass  # still open 5 s on: the server is holding the connection
    if not data:
        return None, {}, None, closed
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return (
        int(lines[0].split()[1]),
        {k.lower(): v for k, v in headers.items()},
        json.loads(body),
        closed,
    )


def good_request(connection: http.client.HTTPConnection, body: bytes) -> float:
    started = time.perf_counter()
    connection.request("POST", "/predict", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = json.loads(response.read())
    assert response.status == 200, payload
    assert 0.0 <= payload["churn_probability"] <= 1.0
    return time.perf_counter() - started


def test_slow_clients_are_cut_off_while_good_ones_keep_their_latency(
    guarded_server: Any, customer: dict[str, Any]
) -> None:
    process, port = guarded_server
    body = json.dumps(customer).encode()
    good = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    baseline = [good_request(good, body) for _ in range(50)]
    rss_before = rss_mb(process.pid)

    slow: list[tuple[str, socket.socket]] = []
    for _ in range(SLOW):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        slow.append(("headers", sock))
    for _ in range(SLOW):
        sock = socket.create_connection(("127.0.0.1", port))
        head = b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        sock.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
        slow.append(("body", sock))
    flood_started = time.monotonic()

    during, rss_peak = [], rss_before
    while time.monotonic() - flood_started < BODY_TIMEOUT + 1.0:
        during.append(good_request(good, body))
        rss_peak = max(rss_peak, rss_mb(process.pid))
        time.sleep(0.01)

    answers: Counter[tuple[str, int | None, str]] = Counter()
    for kind, sock in slow:
        status, headers, payload, closed = read_reply(sock)
        sock.close()
        assert closed, (kind, status)
        code = payload["error"]["code"] if payload else "-"
        answers[(kind, status, code)] += 1
        if status == 503:
            assert headers["retry-after"] == "1"
        if payload:
            assert headers["connection"] == "close"
            assert set(payload["error"]) == {"code", "message", "request_id", "reason", "details"}
    good.close()

    summary = {
        "answers": dict(answers),
        "baseline_ms": [round(statistics.median(baseline) * 1e3, 2), round(max(baseline) * 1e3, 2)],
        "during_ms": [round(statistics.median(during) * 1e3, 2), round(max(during) * 1e3, 2)],
        "good_requests_during": len(during),
        "rss_mb": [round(rss_before, 1), round(rss_peak, 1)],
    }
    print(summary)
    over_cap = 2 * SLOW - CAP + 1  # the good client's connection counts too
    assert answers == {
        ("headers", 408, "request_timeout"): SLOW,
        ("body", 408, "request_timeout"): SLOW - over_cap,
        ("body", 503, "overloaded"): over_cap,
    }, summary
    # Good clients: every answer (asserted per request) at about their usual latency.
    assert statistics.median(during) < max(3 * statistics.median(baseline), 0.02), summary
    assert rss_peak - rss_before < 30, summary
    # And the worker is whole again: a fresh connection is served.
    response = httpx.post(f"http://127.0.0.1:{port}/predict", json=customer, timeout=5)
    assert response.status_code == 200, response.text
