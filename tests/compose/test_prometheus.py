"""Prometheus: the config and rules pass promtool, and every alert has unit tests both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.compose.composetools import (
    PROMETHEUS_CONFIG,
    RULE_TESTS_DIR,
    RULES_DIR,
    require_tool,
    run,
)

CONTAINER_RULES_DIR = "/etc/prometheus/rules"


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_tool("promtool", "prometheus")


def test_config_is_valid_with_its_rule_files(promtool: str, tmp_path: Path) -> None:
    # The config names the rules by their path in the container; point a copy at the repository's
    # folder so `check config` also loads and checks every rule file it would load there.
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    assert config["rule_files"] == [f"{CONTAINER_RULES_DIR}/*.yaml"]
    config["rule_files"] = [f"{RULES_DIR}/*.yaml"]
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config))
    result = run(promtool, "check", "config", str(copy))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert "rule files found" in result.stdout


def test_config_scrapes_the_api_and_itself() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    targets = {
        job["job_name"]: [t for static in job["static_configs"] for t in static["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets == {"prometheus": ["localhost:9090"], "bankchurn-api": ["api:8000"]}


def test_rules_are_valid(promtool: str) -> None:
    files = sorted(RULES_DIR.glob("*.yaml"))
    assert files
    result = run(promtool, "check", "rules", *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass(promtool: str) -> None:
    files = sorted(RULE_TESTS_DIR.glob("*.test.yaml"))
    assert files
    result = run(promtool, "test", "rules", *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_alerts_the_issue_asks_for_exist(rules: list[dict[str, Any]]) -> None:
    assert {rule["alert"] for rule in rules if "alert" in rule} == {
        "BankchurnApiDown",
        "BankchurnHighErrorRatio",
        "BankchurnHighLatencyP99",
        "BankchurnModelNotReady",
        "BankchurnScoreDrift",
        "BankchurnNoTraffic",
        "FeatureDrift",
        "FeatureDriftModerate",
        "BankchurnModelReloadRefused",
    }


def test_every_alert_is_unit_tested_firing_and_not_firing(rules: list[dict[str, Any]]) -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS_DIR.glob("*.test.yaml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in rules if "alert" in rule}
    assert alerts - firing == set(), "alerts with no test that makes them fire"
    assert alerts - quiet == set(), "alerts with no test that keeps them quiet"


def test_every_alert_says_how_bad_and_what_happened(rules: list[dict[str, Any]]) -> None:
    for rule in (rule for rule in rules if "alert" in rule):
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]
        assert rule.get("for"), f"{rule['alert']}: a `for:` keeps one bad scrape from paging"
