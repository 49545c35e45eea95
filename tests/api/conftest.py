"""Fixtures for the API: the real app on the committed model, in-process or as a server.

In-process tests go through ``TestClient`` used as a context manager, so the lifespan
runs and the model is really loaded, verified and warmed up. Each app gets its own
Prometheus registry, so metric values seen by one test are that test's traffic only.
Server tests start ``uvicorn`` itself on a free loopback port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from app.fastapi_app import create_app
from app.settings import Settings, get_settings
from bankchurn.artifacts import CARD_FILE
from bankchurn.schema import EXAMPLE_CUSTOMER
from tests.api.uvicorn_server import Server
from tooling.net import wait_until
from tooling.paths import REPO_ROOT

SETTLE_TIMEOUT = 30.0


@pytest.fixture(scope="session")
def model_dir(committed_model_dir: Path) -> Path:
    """The committed model; every test of a broken model tampers with a copy."""
    if not (committed_model_dir / CARD_FILE).is_file():
        pytest.fail(f"no model in {committed_model_dir}: train one first (`make train`)")
    return committed_model_dir


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No BANKCHURN_* variable of the developer's shell leaks into a test's settings."""
    for name in [name for name in os.environ if name.startswith("BANKCHURN_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def card(model_dir: Path) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((model_dir / CARD_FILE).read_text())
    return card


@pytest.fixture
def model_copy(model_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the committed model, free to break."""
    return Path(shutil.copytree(model_dir, tmp_path / "model"))


@pytest.fixture
def customer() -> dict[str, Any]:
    return dict(EXAMPLE_CUSTOMER)


def wait_until_settled(client: TestClient) -> None:
    """Wait while /ready says the model is still loading (ready or failed both settle)."""

    def settled() -> bool | None:
        response = client.get("/ready")
        loading = response.status_code != 200 and response.json()["error"]["reason"] == "loading"
        return None if loading else True

    if not wait_until(settled, timeout=SETTLE_TIMEOUT, interval=0.02):
        pytest.fail(f"the model was still loading after {SETTLE_TIMEOUT} s")


@pytest.fixture
def settle() -> Callable[[TestClient], None]:
    return wait_until_settled


AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(model_dir: Path) -> Iterator[AppFactory]:
    """Start a fresh app (own settings and registry) and return its settled client."""
    clients: list[TestClient] = []

    def start(*, settle: bool = True, raise_server_exceptions: bool = True, **settings: Any):
        app = create_app(
            Settings(**{"model_dir": model_dir, **settings}), registry=CollectorRegistry()
        )
        client = TestClient(app, raise_server_exceptions=raise_server_exceptions)
        client.__enter__()
        clients.append(client)
        if settle:
            wait_until_settled(client)
        return client

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def run_python(model_dir: Path) -> Callable[..., Any]:
    """Run ``code`` in a fresh interpreter configured only by the environment, as the images
    run the app (the committed model, ``env`` on top), and return the JSON of the last line
    it prints. A new process: imports and thread limits are those of a clean start."""

    def run(code: str, **env: str) -> Any:
        finished = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=REPO_ROOT,
            env={"BANKCHURN_MODEL_DIR": str(model_dir), "PATH": "/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return json.loads(finished.stdout.splitlines()[-1])

    return run


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    """The app on the committed model, ready to predict."""
    return make_client()


class Metrics:
    """The samples of one Prometheus exposition, looked up by name and labels."""

    def __init__(self, text: str) -> None:
        self.samples = [
            (sample.name, sample.labels, sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]

    def value(self, name: str, **labels: str) -> float:
        """The sample with exactly these labels (0 if absent, as Prometheus would read it)."""
        found = [v for n, ls, v in self.samples if n == name and ls == labels]
        return found[0] if found else 0.0

    def total(self, name: str) -> float:
        """The sum over every label combination."""
        return sum(v for n, _, v in self.samples if n == name)

    def labels(self, name: str) -> list[dict[str, str]]:
        return [ls for n, ls, _ in self.samples if n == name]


@pytest.fixture
def scrape() -> Callable[[Any], Metrics]:
    """GET /metrics with a TestClient or a Server's client, checked and parsed."""

    def get(client: Any) -> Metrics:
        response = client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return Metrics(response.text)

    return get


# --- real uvicorn processes (tests/api/uvicorn_server.py) -------------------------------


@pytest.fixture
def serve(model_dir: Path, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start uvicorn servers for a test; whatever is still running is stopped after it.
    ``launcher``: the command that starts it, given the port (default ``python -m uvicorn``)."""
    servers: list[Server] = []

    def start(*args: str, launcher: Callable[[int], list[str]] | None = None, **env: str) -> Server:
        env = {"BANKCHURN_MODEL_DIR": str(model_dir), **env}
        server = Server(env, list(args), tmp_path / f"uvicorn-{len(servers)}.log", launcher)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def serve_workers(serve: Callable[..., Server], tmp_path: Path) -> Callable[..., Server]:
    """``serve`` with ``--workers count`` and the multiprocess metrics folder they must share
    (PROMETHEUS_MULTIPROC_DIR: a fresh one per server, as docker/serve.py prepares it)."""

    def start(
        count: int, *args: str, launcher: Callable[[int], list[str]] | None = None, **env: str
    ) -> Server:
        folder = Path(tempfile.mkdtemp(prefix="metrics-", dir=tmp_path))
        return serve(
            "--workers", str(count), *args, launcher=launcher,
            PROMETHEUS_MULTIPROC_DIR=str(folder), **env,
        )  # fmt: skip

    return start
