"""Grafana's provisioning and dashboard, checked statically.

No Grafana binary or image is reachable where this project's CI runs, so the files are
checked here against what Grafana requires of them: the dashboard's JSON model, the
datasource uid every panel and query uses being the one provisioned, and the mounts in
docker-compose.yml matching the provisioning paths.
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.compose.composetools import DASHBOARD_PROVIDERS, DATASOURCES

# Panel types shipped with Grafana (no plugin needed).
CORE_PANELS = {"row", "timeseries", "stat", "heatmap", "gauge", "bargauge", "table", "text"}


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def test_dashboard_is_a_grafana_dashboard(dashboard: dict[str, Any]) -> None:
    assert isinstance(dashboard["schemaVersion"], int)
    assert dashboard["schemaVersion"] >= 36
    assert dashboard["uid"] == "bankchurn-api"
    assert dashboard["title"]
    assert "id" not in dashboard or dashboard["id"] is None  # ids belong to a Grafana database
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in dashboard["panels"]:
        assert panel["type"] in CORE_PANELS, panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        assert grid["h"] > 0, panel["title"]


def test_every_panel_and_query_uses_the_provisioned_datasource(dashboard: dict[str, Any]) -> None:
    provisioned = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    [prometheus] = [ds for ds in provisioned if ds["type"] == "prometheus"]
    assert prometheus["url"] == "http://prometheus:9090"  # the compose service name
    expected = {"type": "prometheus", "uid": prometheus["uid"]}
    for panel in panels(dashboard):
        assert panel["datasource"] == expected, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        for target in panel["targets"]:
            assert target["datasource"] == expected, panel["title"]
            assert target["expr"].strip(), panel["title"]
            assert target["refId"], panel["title"]


def test_dashboard_covers_what_the_issue_asks_for(dashboard: dict[str, Any]) -> None:
    titles = " | ".join(panel["title"].lower() for panel in panels(dashboard))
    for topic in (
        "request rate", "error ratio", "latency p50 / p95 / p99", "predictions by outcome",
        "score distribution", "inference time", "batch sizes", "model version", "model ready",
        "cpu", "memory", "psi per feature", "observed vs reference shares of the worst feature",
    ):  # fmt: skip
        assert topic in titles, topic
    [heatmap] = [panel for panel in panels(dashboard) if panel["type"] == "heatmap"]
    assert heatmap["targets"][0]["format"] == "heatmap"
    assert "bankchurn_churn_probability_bucket" in heatmap["targets"][0]["expr"]


def test_dashboard_provider_reads_the_folder_compose_mounts(compose: dict[str, Any]) -> None:
    [provider] = yaml.safe_load(DASHBOARD_PROVIDERS.read_text())["providers"]
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./infra/grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert "./infra/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts


def test_drift_panels_read_the_psi_rules(dashboard: dict[str, Any]) -> None:
    by_title = {panel["title"]: panel for panel in panels(dashboard)}
    [psi] = [panel for title, panel in by_title.items() if title.startswith("PSI per feature")]
    assert psi["targets"][0]["expr"] == "bankchurn:feature_psi:1h"
    [shares] = [panel for title, panel in by_title.items() if "worst feature" in title]
    exprs = [target["expr"] for target in shares["targets"]]
    assert exprs == [
        "bankchurn:feature_bin_share:rate1h and on (feature) topk(1, bankchurn:feature_psi:1h)",
        "bankchurn:feature_reference_share:max and on (feature) topk(1, bankchurn:feature_psi:1h)",
    ]
