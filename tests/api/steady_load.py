"""A steady, bounded load on loopback: paced requests, every outcome recorded with its time.

Request ``i`` is due at ``start + i / rate``; ``concurrency`` asyncio tasks take the next
due request, so the offered rate holds whatever the latency, and a server that falls
behind shows as an achieved rate below the target. Every ``batch_every``-th request is a
/predict/batch of ``batch_size`` customers, the rest single /predict calls. Nothing is
retried: a connection error is an outcome like any status.

The client speaks HTTP/1.1 over keep-alive asyncio streams itself: on a shared 2-core
machine httpx's own CPU cost (~1 ms a request) would cap the offered rate below what
the issue asks for. Each task owns one connection; one that breaks is an error outcome,
then the task reconnects.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Outcome:
    started: float  # seconds since the load began
    ended: float
    status: int | None  # None: no HTTP response (connection error, timeout)
    versions: frozenset[str]  # model_version of the response and of each of its predictions
    error: str = ""
    reused: bool = False  # sent on a keep-alive connection that had answered before


@dataclass
class LoadReport:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.outcomes) / self.seconds

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != 200 or len(o.versions) != 1]

    def latency_ms(self, quantile: float, between: tuple[float, float] | None = None) -> float:
        """Client-side latency quantile, of the requests started ``between`` (a, b) if given."""
        low, high = between or (0.0, float("inf"))
        latencies = sorted(
            (o.ended - o.started) * 1000 for o in self.outcomes if low <= o.started < high
        )
        return statistics.quantiles(latencies, n=1000)[round(quantile * 1000) - 1]


async def run_load(
    host: str,
    port: int,
    customer: dict[str, Any],
    *,
    rate: float,
    seconds: float,
    concurrency: int = 16,
    batch_every: int = 20,
    batch_size: int = 20,
    during: Callable[[float], Awaitable[None]] | None = None,
) -> LoadReport:
    """Offer ``rate`` requests/s for ``seconds``; run ``during(start)`` alongside."""
    single = _request(host, "/predict", customer)
    batch = _request(host, "/predict/batch", {"customers": [customer] * batch_size})
    total = int(rate * seconds) + 1  # the last one is due at ``seconds``, not before
    report = LoadReport()
    next_index = iter(range(total))
    start = time.monotonic()

    async def worker() -> None:
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        answered = 0  # responses on the current connection
        for index in next_index:
            wait = start + index / rate - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            started = time.monotonic() - start
            try:
                if connection is None:
                    connection, answered = await asyncio.open_connection(host, port), 0
                reader, writer = connection
                writer.write(batch if index % batch_every == batch_every - 1 else single)
                status, body, closing = await asyncio.wait_for(_response(reader), 10)
            except (
                OSError,
                asyncio.IncompleteReadError,
                TimeoutError,
                ValueError,
                KeyError,
            ) as error:
                if connection is not None:
                    connection[1].close()
                connection = None
                ended = time.monotonic() - start
                message = f"{type(error).__name__}: {error}"
                report.outcomes.append(
                    Outcome(started, ended, None, frozenset(), message, reused=answered > 0)
                )
                continue
            answered += 1
            ended = time.monotonic() - start
            if closing:  # the server said so: answer kept, connection dropped
                writer.close()
                connection = None
            versions: set[str] = set()
            if status == 200:
                document = json.loads(body)
                versions.add(document["model_version"])
                versions.update(p["model_version"] for p in document.get("predictions", []))
            report.outcomes.append(
                Outcome(started, ended, status, frozenset(versions), body[:200].decode())
            )
        if connection is not None:
            connection[1].close()

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    if during is not None:
        tasks.append(asyncio.create_task(during(start)))
    await asyncio.gather(*tasks)
    report.seconds = time.monotonic() - start
    return report


def _request(host: str, path: str, document: Any) -> bytes:
    body = json.dumps(document).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the server closes the connection after this response
    (uvicorn sends Content-Length for every JSON body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    body = await reader.readexactly(int(headers["content-length"]))
    return status, body, headers.get("connection") == "close"
