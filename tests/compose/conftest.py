"""Fixtures for the compose stack's tests: the compose file, the alert rules, the dashboard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.compose.composetools import COMPOSE_FILE, DASHBOARD, RULES_DIR
from tests.compose.stack import Stack, running_stack


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """docker-compose.yml as YAML (anchors resolved, variables not interpolated)."""
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return document


@pytest.fixture(scope="session")
def rules() -> list[dict[str, Any]]:
    """Every rule of every file in infra/prometheus/rules/."""
    found: list[dict[str, Any]] = []
    for path in sorted(RULES_DIR.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            found.extend(group["rules"])
    return found


@pytest.fixture(scope="session")
def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return document


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The compose stack, up once for test_stack.py and test_stack_reload.py (in that order)."""
    with running_stack(tmp_path_factory) as started:
        yield started
