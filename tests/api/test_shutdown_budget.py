"""The shutdown's parts fit the orchestrators' grace periods, as docs/reliability.md adds up."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.http_protocol import IDLE_GRACE_SECONDS
from app.server_options import SERVER_DEFAULTS, uvicorn_arguments
from app.settings import Settings
from tooling.paths import REPO_ROOT


def _seconds(text: str) -> float:
    return float(text.removesuffix("s"))


def test_drain_and_graceful_timeout_fit_compose_and_kubernetes() -> None:
    worst = (
        Settings().drain_seconds
        + float(SERVER_DEFAULTS["--timeout-graceful-shutdown"])
        + IDLE_GRACE_SECONDS
    )
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    grace = _seconds(compose["services"]["api"]["stop_grace_period"])
    deployment = next(
        doc
        for doc in yaml.safe_load_all(
            Path(REPO_ROOT / "deploy/k8s/base/deployment.yaml").read_text()
        )
        if doc and doc.get("kind") == "Deployment"
    )
    pod = deployment["spec"]["template"]["spec"]
    pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert worst == 15.5
    assert worst + 2 <= grace  # margin for the interpreter's own exit
    assert pre_stop + worst + 2 <= pod["terminationGracePeriodSeconds"]


def test_the_images_entrypoint_selects_the_guarded_protocol_unless_told_otherwise() -> None:
    log_config = str(REPO_ROOT / "app" / "uvicorn_logging.json")
    assert uvicorn_arguments(["app.fastapi_app:app"]) == [
        "app.fastapi_app:app",
        "--http", "app.http_protocol:GuardedHttpToolsProtocol",
        "--timeout-graceful-shutdown", "10",
        "--log-config", log_config,
    ]  # fmt: skip
    given = ["x", "--http=h11", "--timeout-graceful-shutdown", "3", "--log-config=mine.json"]
    assert uvicorn_arguments(given) == given
