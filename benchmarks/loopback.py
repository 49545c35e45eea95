"""HTTP to the servers and containers a benchmark started, on 127.0.0.1 only."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def post(url: str, body: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    """(status, body) of a JSON POST; (0, b"") when nothing answers (not listening yet)."""
    request = urllib.request.Request(  # noqa: S310 (loopback URLs only)
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, b""


def get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """(status, body) of a GET; raises OSError when nothing answers (the server should)."""
    request = urllib.request.Request(url, method="GET")  # noqa: S310 (loopback URLs only)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def http_status(method: str, url: str, body: Any = None) -> int:
    """The status of one request; OSError when nothing answers."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback URLs only)
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
