"""Load through a shutdown: three kinds of client keep predicting while the server stops.

Used by tests/api/test_shutdown_under_load.py (a real uvicorn started as the images
start it) and tests/images/test_image_shutdown.py (the production image under
``docker stop``). Each client paces its own requests; together they send
``RATE`` requests per second:

- ``keepalive``: one http.client connection, reused until the server says
  ``Connection: close`` (then a new one): the client the issue lost 12-15 requests of;
- ``pooled``: urllib3's PoolManager (what ``requests`` uses), retries off;
- ``fresh``: a new connection for every request.

Each request carries a unique X-Request-ID. A request is *refused* when its connection
was refused (the server had stopped listening: nothing was accepted, a balancer sends
it elsewhere). A request on a connection opened for it that is reset and that the
server never saw is *unaccepted*: the kernel had queued the connection in the listen
backlog, and closing a listening socket resets what is queued, in any TCP server; only
a balancer that stops sending (which the drain gives it time for) avoids that. Every
other failure is *lost* (notably a reset on a reused keep-alive connection: the server
closed a connection a request was already on), and so is a request the server logged
but the client never got an answer to. Clients stop once refused or after
``max_seconds``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import urllib3

RATE = 180  # requests per second, all clients together
CLIENTS = ("keepalive", "pooled", "fresh")


@contextlib.contextmanager
def cpu_burners(count: int) -> Iterator[None]:
    """``count`` processes spinning on a CPU each: a busy neighbour for the server."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


@dataclass
class Tally:
    ok: set[str] = field(default_factory=set)
    refused: int = 0
    # (client, request id, on a connection opened for it, what went wrong)
    failures: list[tuple[str, str, bool, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, request_id: str, outcome: str, new_connection: bool) -> None:
        with self.lock:
            if outcome == "ok":
                self.ok.add(request_id)
            elif outcome == "refused":
                self.refused += 1
            else:
                self.failures.append((kind, request_id, new_connection, outcome))


def _refused(error: BaseException) -> bool:
    while error is not None:
        if isinstance(error, ConnectionRefusedError):
            return True
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return False


def _outcome(status: int, body: bytes) -> str:
    if status == 200 and b"churn_probability" in body:
        return "ok"
    return f"status {status}"


def _client(
    kind: str, host: str, port: int, body: bytes, tally: Tally, stop: threading.Event
) -> None:
    interval = len(CLIENTS) / RATE
    pool = urllib3.PoolManager(maxsize=2, retries=False, timeout=30)
    connection: http.client.HTTPConnection | None = None
    pooled = pool.connection_from_host(host, port, scheme="http")
    # urllib3 reopens a connection the server closed with the same connection object, so
    # a new connection shows as a count that grew or a previous answer that said close.
    pooled_closed = True
    next_at = time.monotonic()
    while not stop.is_set():
        request_id = uuid.uuid4().hex
        headers = {"Content-Type": "application/json", "X-Request-ID": request_id}
        opened = pooled.num_connections
        new_connection = kind == "fresh" or connection is None
        try:
            if kind == "pooled":
                reply = pooled.urlopen("POST", "/predict", body=body, headers=headers)
                outcome = _outcome(reply.status, reply.data)
                closed_after = reply.headers.get("connection", "").lower() == "close"
            else:
                if connection is None or kind == "fresh":
                    connection = http.client.HTTPConnection(host, port, timeout=30)
                connection.request("POST", "/predict", body=body, headers=headers)
                response = connection.getresponse()
                outcome = _outcome(response.status, response.read())
                if response.will_close or kind == "fresh":
                    connection.close()
                    connection = None
        except Exception as error:  # every failure is classified, none is ignored
            outcome = "refused" if _refused(error) else f"{type(error).__name__}: {error}"
            if connection is not None:
                connection.close()
                connection = None
        if kind == "pooled":
            new_connection = pooled_closed or pooled.num_connections > opened
            pooled_closed = outcome != "ok" or closed_after
        tally.record(kind, request_id, outcome, new_connection)
        if outcome == "refused":
            return
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))
    pool.clear()


@dataclass
class RunResult:
    ok: int
    refused: int
    unaccepted: int
    lost: dict[str, int]
    answered_unlogged: int
    logged_unanswered: int
    lost_total: int  # failed on the client, or logged by the server but never answered
    exit_code: int | None
    shutdown_seconds: float


def summary(results: list[RunResult]) -> str:
    """The runs in one line, as the resolve notes and docs/reliability.md quote them."""
    lost = [result.lost_total for result in results]
    times = sorted(round(result.shutdown_seconds, 2) for result in results)
    return (
        f"lost per run {lost}, total {sum(lost)}; ok {sum(r.ok for r in results)}; "
        f"refused {sum(r.refused for r in results)}; "
        f"unaccepted {[r.unaccepted for r in results]}; shutdown seconds {times}"
    )


def run_through_shutdown(
    host: str,
    port: int,
    customer: dict[str, Any],
    stop_server: Callable[[], None],
    wait_exit: Callable[[], int | None],
    logged_ids: Callable[[], set[str]],
    load_before: float = 1.0,
    max_seconds: float = 8.0,
) -> RunResult:
    """Load for ``load_before`` s, call ``stop_server`` (SIGTERM or docker stop) and keep
    loading until every client is refused or the server has exited."""
    body = json.dumps(customer).encode()
    tally, stop = Tally(), threading.Event()
    threads = [threading.Thread(target=_client, args=(kind, host, port, body, tally, stop))
               for kind in CLIENTS]  # fmt: skip
    for thread in threads:
        thread.start()
    time.sleep(load_before)
    stopped_at = time.monotonic()
    stopper = threading.Thread(target=stop_server)
    stopper.start()
    exit_code = wait_exit()
    shutdown_seconds = time.monotonic() - stopped_at
    stop.set()
    for thread in threads:
        thread.join(timeout=max_seconds)
    stopper.join(timeout=max_seconds)
    logged = logged_ids()
    unaccepted = {rid for _, rid, new, error in tally.failures
                  if new and "reset" in error.lower() and rid not in logged}  # fmt: skip
    lost = Counter(f"{kind}: {error}" for kind, rid, _, error in tally.failures
                   if rid not in unaccepted)  # fmt: skip
    lost_ids = {rid for _, rid, _, _ in tally.failures} - unaccepted
    return RunResult(
        ok=len(tally.ok),
        refused=tally.refused,
        unaccepted=len(unaccepted),
        lost=dict(lost),
        answered_unlogged=len(tally.ok - logged),
        logged_unanswered=len(logged - tally.ok),
        lost_total=len(lost_ids | (logged - tally.ok)),
        exit_code=exit_code,
        shutdown_seconds=shutdown_seconds,
    )


def predict_ids(log_lines: list[dict[str, Any]]) -> set[str]:
    """Request ids of the /predict requests the server's access log recorded."""
    return {
        line["request_id"]
        for line in log_lines
        if line.get("message") == "request" and line.get("route") == "/predict"
    }
