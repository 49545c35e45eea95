"""The manifests agree with what they deploy: the image, its port, the app's routes, the
compose stack's drain budget and scrape settings, and each other's label selectors.

Each fact is read from where it is defined (scripts/images/images.env, the Dockerfile,
the FastAPI app, docker-compose.yml, infra/prometheus-config.yaml), never retyped here.
"""

from __future__ import annotations

import pytest
import yaml

from app.fastapi_app import app
from tests.k8s.k8stools import (
    OVERLAYS,
    PRODUCTION_DOCKERFILE,
    PROMETHEUS_CONFIG,
    Manifest,
    all_of,
    compose,
    container,
    dockerfile_instructions,
    image_command,
    pod_labels,
    pod_spec,
    seconds,
    selects,
    the,
)
from tooling.images_env import image as image_name

PORT_NAME = "http"


def get_routes() -> set[str]:
    """The paths the app answers GET on, from its OpenAPI document (routers are included
    lazily, so app.routes does not list them)."""
    return {path for path, methods in app.openapi()["paths"].items() if "get" in methods}


def test_the_api_runs_the_production_image_named_in_images_env(objects: list[Manifest]) -> None:
    assert container(objects)["image"] == image_name("production")


def test_the_api_runs_the_images_own_entrypoint_and_command(objects: list[Manifest]) -> None:
    """serve.py must stay PID 1 (it runs uvicorn in its own process, which gets SIGTERM),
    and the port below is the one the image's CMD binds."""
    api = container(objects)
    assert "command" not in api
    assert "args" not in api


def test_the_container_port_is_the_one_the_image_exposes_and_binds(objects: list[Manifest]) -> None:
    (port,) = container(objects)["ports"]
    exposed = {int(value) for value in dockerfile_instructions(PRODUCTION_DOCKERFILE, "EXPOSE")}
    command = image_command(PRODUCTION_DOCKERFILE)
    bound = int(command[command.index("--port") + 1])
    assert port == {"name": PORT_NAME, "containerPort": bound, "protocol": "TCP"}
    assert exposed == {bound}


def test_probes_hit_the_apps_health_routes_on_the_named_port(objects: list[Manifest]) -> None:
    api = container(objects)
    routes = get_routes()
    expected = {"startupProbe": "/health", "livenessProbe": "/health", "readinessProbe": "/ready"}
    for probe, path in expected.items():
        assert api[probe]["httpGet"] == {"path": path, "port": PORT_NAME}, probe
        assert path in routes, f"{probe}: the app has no GET {path}"


def test_the_probes_are_ordered_startup_then_tolerant_liveness(objects: list[Manifest]) -> None:
    """Liveness gives up last: it restarts the process, the others only route traffic."""
    api = container(objects)

    def patience(probe: str) -> int:
        return int(api[probe]["periodSeconds"] * api[probe]["failureThreshold"])

    assert patience("livenessProbe") > patience("readinessProbe")
    for probe in ("livenessProbe", "readinessProbe"):
        assert "initialDelaySeconds" not in api[probe], "the startup probe already holds them"


def test_termination_leaves_the_app_its_compose_drain_budget_after_prestop(
    objects: list[Manifest],
) -> None:
    """preStop keeps serving while endpoints update; then uvicorn gets SIGTERM and the same
    time to drain that docker-compose.yml's stop_grace_period gives it."""
    pre_stop = container(objects)["lifecycle"]["preStop"]
    # The `sleep` handler: the distroless image has no shell or sleep binary for `exec`.
    assert set(pre_stop) == {"sleep"}
    drain = seconds(compose()["services"]["api"]["stop_grace_period"])
    grace = pod_spec(objects)["terminationGracePeriodSeconds"]
    assert grace == pre_stop["sleep"]["seconds"] + drain


def test_every_selector_selects_the_api_pods(objects: list[Manifest]) -> None:
    labels = pod_labels(objects)
    deployment = the(objects, "Deployment")
    assert selects(deployment["spec"]["selector"], labels)
    assert the(objects, "Service")["spec"]["selector"].items() <= labels.items()
    assert selects(the(objects, "PodDisruptionBudget")["spec"]["selector"], labels)
    for policy in all_of(objects, "NetworkPolicy"):
        assert selects(policy["spec"]["podSelector"], labels), policy["metadata"]["name"]
    for spread in pod_spec(objects)["topologySpreadConstraints"]:
        assert selects(spread["labelSelector"], labels)
    target = the(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert target == {
        "apiVersion": deployment["apiVersion"],
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }


def test_the_service_forwards_to_the_named_container_port(objects: list[Manifest]) -> None:
    (port,) = the(objects, "Service")["spec"]["ports"]
    assert port["targetPort"] == PORT_NAME
    assert port["name"] == PORT_NAME


def test_ingress_reaches_only_the_api_port_from_clients_and_prometheus(
    objects: list[Manifest],
) -> None:
    policy = the(objects, "NetworkPolicy", "bankchurn-api")
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    rules = policy["spec"]["ingress"]
    for rule in rules:
        assert rule["ports"] == [{"port": PORT_NAME, "protocol": "TCP"}]
        assert rule["from"], "a rule without `from` admits every source"
    prometheus = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    assert any(prometheus in rule["from"] for rule in rules)


def test_the_base_policy_lets_nothing_out(objects: list[Manifest]) -> None:
    """With the model in the image the API calls nothing, not even DNS; only the MLflow
    component adds egress, in a policy of its own (test_model_delivery.py)."""
    assert the(objects, "NetworkPolicy", "bankchurn-api")["spec"]["egress"] == []


def test_the_autoscaler_scales_on_cpu_only(objects: list[Manifest]) -> None:
    (metric,) = the(objects, "HorizontalPodAutoscaler")["spec"]["metrics"]
    assert metric["type"] == "Resource"
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"


def test_the_service_is_named_like_the_compose_scrape_job(objects: list[Manifest]) -> None:
    """The Prometheus Operator sets job=<Service name>; the alert rules and the dashboard
    select the job of the compose stack's API scrape config."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    (api_job,) = [job for job in config["scrape_configs"] if job["job_name"] != "prometheus"]
    assert the(objects, "Service")["metadata"]["name"] == api_job["job_name"]


@pytest.mark.parametrize("name", OVERLAYS)
def test_the_service_monitor_scrapes_the_service_like_the_compose_stack(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    """The CRD has no schema offline (test_render.py), so its fields are checked here, each
    against what it must match."""
    objects = rendered[name]
    monitor = the(objects, "ServiceMonitor")
    service = the(objects, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    assert "namespaceSelector" not in monitor["spec"], "the Service is in the monitor's namespace"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    assert endpoint["path"] in get_routes()
    scrape = yaml.safe_load(PROMETHEUS_CONFIG.read_text())["global"]
    assert endpoint["interval"] == scrape["scrape_interval"]
    assert endpoint["scrapeTimeout"] == scrape["scrape_timeout"]
    assert set(endpoint) == {"port", "path", "interval", "scrapeTimeout"}
