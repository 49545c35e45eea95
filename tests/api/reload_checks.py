"""What the in-process reload tests check, shared: waiting on a condition, the ERROR log
lines, the reload counter, the served version (tests/api/test_model_reload*.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app import metrics as names
from tests.api.model_shelf import ModelShelf
from tooling.net import wait_until

POLL = 0.05  # BANKCHURN_MODEL_POLL_SECONDS of the in-process apps
TIMEOUT = 30.0


def eventually(condition: Callable[[], Any], what: str) -> Any:
    """``condition``'s first truthy value, polled twice per poll interval, or a test failure."""
    value = wait_until(lambda: condition() or None, timeout=TIMEOUT, interval=POLL / 2)
    if value is None:
        pytest.fail(f"not within {TIMEOUT} s: {what}")
    return value


def error_lines(capsys) -> list[dict[str, Any]]:
    """The service's ERROR log lines so far (JSON lines on stderr)."""
    lines = [json.loads(text) for text in capsys.readouterr().err.splitlines() if text[:1] == "{"]
    return [line for line in lines if line["level"] == "ERROR"]


def reloads(scrape, client) -> dict[str, float]:
    metrics = scrape(client)
    return {
        result: metrics.value(names.MODEL_RELOADS_TOTAL, result=result)
        for result in ("loaded", "refused")
    }


def served_version(client) -> str:
    ready = client.get("/ready")
    assert ready.status_code == 200, ready.text
    return str(ready.json()["model_version"])


def assert_still_serving(client, version: str, customer: dict[str, Any]) -> None:
    assert served_version(client) == version
    assert client.get("/model").json()["model_version"] == version
    prediction = client.post("/predict", json=customer)
    assert prediction.status_code == 200
    assert prediction.json()["model_version"] == version


def shelf_with_v1(model_dir: Path, tmp_path: Path) -> ModelShelf:
    """A shelf under ``tmp_path`` whose champion is v1, a copy of ``model_dir``."""
    shelf = ModelShelf(model_dir, tmp_path / "models")
    shelf.add("v1")
    shelf.publish("v1")
    return shelf
