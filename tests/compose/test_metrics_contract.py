"""Every metric the dashboard and the alert rules query is one the API really exports.

The app runs in-process (``create_app`` + ``TestClient``, the lifespan loads the committed
model), serves a few predictions, and its /metrics page is parsed; every PromQL expression
in infra/ is reduced to the metric names it selects, and each must be on that page.

Registry: compose serves the module-level ``app.fastapi_app:app`` with one worker, which
registers into prometheus_client's global ``REGISTRY``; that registry also holds the
process, platform and GC collectors prometheus_client adds at import. The test registry
gets the same collectors (and a test checks the served app really uses ``REGISTRY``).
With several workers (multiprocess mode) ``process_*`` is not exported at all, which is
why docker-compose.yml pins ``WEB_CONCURRENCY=1``; the last test shows that.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.parser import text_string_to_metric_families

from app.fastapi_app import create_app
from app.settings import Settings
from bankchurn.schema import EXAMPLE_CUSTOMER
from tests.compose.composetools import REPO_ROOT
from tooling.net import wait_until

# Series Prometheus makes itself, not the app.
PROMETHEUS_SYNTHETIC = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
PROMQL_WORDS = {
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
    "group_left", "group_right", "inf", "nan",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, labels and keywords removed)."""
    expr = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # string literals
    expr = re.sub(r"\{[^}]*\}", " ", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", " ", expr)  # range and subquery windows
    # Label lists of aggregations and vector matching: sum by (le, handler), and on (), ...
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"\$\w+", " ", expr)  # Grafana variables such as $__rate_interval
    names = set()
    for match in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", expr):
        name, is_call = match.group(1), match.group(2)
        if not is_call and name.lower() not in PROMQL_WORDS:
            names.add(name)
    return names


def test_metric_names_are_parsed_from_promql() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (le, handler) (rate(http_request_duration_seconds_bucket"
        '{job="x", handler=~"/predict.*"}[5m]))) > 0.25 and on () max(up{job="x"}) == 1'
        " or vector(0) / sum(rate(bankchurn_predictions_total[$__rate_interval]))"
    )
    assert metric_names(expr) == {
        "http_request_duration_seconds_bucket", "up", "bankchurn_predictions_total",
    }  # fmt: skip


def wait_until_ready(client: TestClient, timeout: float = 30.0) -> None:
    ready = wait_until(
        lambda: client.get("/ready").status_code == 200 or None, timeout=timeout, interval=0.05
    )
    assert ready, client.get("/ready").json()


def infra_expressions(dashboard: dict[str, Any], rules: list[dict[str, Any]]) -> dict[str, str]:
    """Every PromQL expression in infra/, keyed by where it is."""
    found = {f"rule {rule.get('alert') or rule.get('record')}": rule["expr"] for rule in rules}
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found[f"panel {panel['title']!r} {target['refId']}"] = target["expr"]
    return found


@pytest.fixture(scope="module")
def exported(committed_model_dir: Path) -> dict[str, Any]:
    """Sample names and family types on /metrics after real traffic."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    app = create_app(Settings(model_dir=committed_model_dir), registry=registry)
    with TestClient(app) as client:
        wait_until_ready(client)
        assert client.post("/predict", json=EXAMPLE_CUSTOMER).status_code == 200
        batch = {"customers": [EXAMPLE_CUSTOMER, {**EXAMPLE_CUSTOMER, "age": 61}]}
        assert client.post("/predict/batch", json=batch).status_code == 200
        assert client.get("/nope").status_code == 404
        page = client.get("/metrics").text
    families = list(text_string_to_metric_families(page))
    return {
        "samples": {sample.name for family in families for sample in family.samples},
        "types": {family.name: family.type for family in families},
    }


def test_every_metric_queried_by_the_dashboard_and_rules_is_exported(
    exported: dict[str, Any], dashboard: dict[str, Any], rules: list[dict[str, Any]]
) -> None:
    missing = []
    # Recording rules' outputs (bankchurn:...) are Prometheus's, built from exported names.
    recorded = {rule["record"] for rule in rules if "record" in rule}
    for where, expr in infra_expressions(dashboard, rules).items():
        for name in metric_names(expr) - PROMETHEUS_SYNTHETIC - recorded:
            if name not in exported["samples"]:
                missing.append(f"{where}: {name}")
                continue
            # x_bucket/_sum/_count must be a histogram's series, not a name that happens to end so.
            base = next((name[: -len(s)] for s in HISTOGRAM_SUFFIXES if name.endswith(s)), None)
            if base in exported["types"]:
                assert exported["types"][base] == "histogram", f"{where}: {name}"
    assert missing == [], "queried but not exported:\n  " + "\n  ".join(missing)


def test_the_contract_metrics_are_all_used(
    exported: dict[str, Any], dashboard: dict[str, Any], rules: list[dict[str, Any]]
) -> None:
    """The other direction: each metric in app/metrics.py's contract is on the dashboard."""
    queried = {
        name for expr in infra_expressions(dashboard, rules).values() for name in metric_names(expr)
    }
    bases = {re.sub(r"_(bucket|sum|count)$", "", name) for name in queried}
    for metric in (
        "http_requests_total", "http_request_duration_seconds", "bankchurn_predictions_total",
        "bankchurn_churn_probability", "bankchurn_inference_duration_seconds",
        "bankchurn_batch_size", "bankchurn_model_info", "bankchurn_model_ready",
        "process_cpu_seconds_total", "process_resident_memory_bytes",
        "bankchurn_feature_bin_total", "bankchurn_feature_reference_ratio",
        "bankchurn_model_reloads_total", "bankchurn_model_last_load_timestamp_seconds",
        "bankchurn_model_candidate_refused",
    ):  # fmt: skip
        assert metric in bases, metric


def test_the_served_app_registers_into_the_global_registry_with_process_metrics() -> None:
    from app.fastapi_app import app

    assert app.state.metrics.registry is REGISTRY
    for metric in ("process_cpu_seconds_total", "process_resident_memory_bytes"):
        assert REGISTRY.get_sample_value(metric) is not None, metric


MULTIPROCESS_PROBE = """
import sys
from fastapi.testclient import TestClient
from app.fastapi_app import create_app
from app.settings import Settings
from prometheus_client import CollectorRegistry
app = create_app(Settings(model_dir=sys.argv[1]), registry=CollectorRegistry())
with TestClient(app) as client:
    print(client.get("/metrics").text)
"""


def test_multiprocess_mode_exports_no_process_metrics(
    committed_model_dir: Path, tmp_path: Path
) -> None:
    """Why compose runs one worker per container: with PROMETHEUS_MULTIPROC_DIR set,
    /metrics merges the workers' files and process_cpu/memory disappear. prometheus_client
    picks its value store when imported, hence a fresh interpreter."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", MULTIPROCESS_PROBE, str(committed_model_dir)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "bankchurn_predictions_total" in result.stdout
    assert "process_resident_memory_bytes" not in result.stdout
    assert "process_cpu_seconds_total" not in result.stdout


def test_repo_root_is_where_the_infra_lives() -> None:
    assert (REPO_ROOT / "infra" / "prometheus-config.yaml").is_file()
