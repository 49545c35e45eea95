"""Paths and helpers for the compose stack's tests (docker-compose.yml, infra/).

The static tests need Compose v2 (``docker compose``, what users run; installed by
scripts/compose/install-v2.sh) and ``promtool`` (apt ``prometheus``); they FAIL, never skip,
when either is missing: CI installs both, and a check that silently did not run proves nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tooling.paths import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
INFRA = REPO_ROOT / "infra"
PROMETHEUS_CONFIG = INFRA / "prometheus-config.yaml"
RULES_DIR = INFRA / "prometheus" / "rules"
RULE_TESTS_DIR = INFRA / "prometheus" / "tests"
GRAFANA = INFRA / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "bankchurn.json"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yaml"
DASHBOARD_PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "bankchurn.yaml"

# Values for the variables compose requires (`${VAR:?...}`), as a user's .env would hold them.
TEST_ENV = {"GRAFANA_ADMIN_PASSWORD": "compose-test-password"}


def require_tool(name: str, package: str) -> str:
    """The tool's path, or a test failure naming the apt package that provides it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: apt-get install -y {package} (CI installs it)")
    return path


def compose_command() -> list[str]:
    """``docker compose`` (v2), or a test failure saying how to install it."""
    docker = require_tool("docker", "docker.io")
    found = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    if found.returncode != 0:
        pytest.fail("Compose v2 is not installed: run scripts/compose/install-v2.sh (CI does)")
    return [docker, "compose"]


def run(*args: str, cwd: Path = REPO_ROOT, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, **kwargs)


def compose_config(
    tmp_path: Path, env: dict[str, str], *files: Path
) -> subprocess.CompletedProcess[str]:
    """``docker compose config`` of ``files`` (default: docker-compose.yml) with ``env`` as the
    only .env: what ``up`` would resolve, and nothing from the caller's shell."""
    env_file = tmp_path / "test.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    chosen = [arg for path in files or (COMPOSE_FILE,) for arg in ("-f", str(path))]
    return run(
        *compose_command(), "--env-file", str(env_file), *chosen, "config",
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
