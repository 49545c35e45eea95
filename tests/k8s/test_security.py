"""Every container of every rendered pod runs hardened: the `restricted` Pod Security Standard
and more (read-only root, no token, writable only where the app must write).

Settings are checked as they take effect: a container's own securityContext over the pod's.
The uids are the images' own USER lines, so the pod and the image cannot disagree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.k8s.k8stools import (
    OLDEST_SUPPORTED,
    OVERLAYS,
    PRODUCTION_DOCKERFILE,
    TRAIN_DOCKERFILE,
    Manifest,
    all_of,
    compose_default_image,
    container,
    image_user,
    pod_spec,
    security,
    the,
)
from tooling.images_env import image as image_name

# The only place the API must write: Python's temporary files (and serve.py's multiprocess
# metrics folder, should WEB_CONCURRENCY be raised).
API_WRITABLE_PATHS = {"/tmp"}


def image_dockerfiles() -> dict[str, Path]:
    """image name -> the Dockerfile it is built from, for every image the manifests run."""
    return {
        image_name("production"): PRODUCTION_DOCKERFILE,
        compose_default_image("train"): TRAIN_DOCKERFILE,
    }


def every_container(objects: list[Manifest]) -> list[Manifest]:
    spec = pod_spec(objects)
    return [*spec.get("initContainers", []), *spec["containers"]]


def test_every_container_runs_as_its_images_non_root_user(objects: list[Manifest]) -> None:
    dockerfiles = image_dockerfiles()
    for spec in every_container(objects):
        settings = security(objects, spec)
        assert settings["runAsNonRoot"] is True, spec["name"]
        uid, gid = image_user(dockerfiles[spec["image"]])
        assert (settings["runAsUser"], settings["runAsGroup"]) == (uid, gid), spec["name"]
        assert uid != 0


def test_the_api_runs_as_the_distroless_nonroot_user(objects: list[Manifest]) -> None:
    settings = security(objects, container(objects))
    assert (settings["runAsUser"], settings["runAsGroup"]) == (65532, 65532)


def test_every_container_is_locked_down(objects: list[Manifest]) -> None:
    for spec in every_container(objects):
        settings = security(objects, spec)
        name = spec["name"]
        assert settings["allowPrivilegeEscalation"] is False, name
        assert settings["readOnlyRootFilesystem"] is True, name
        assert settings["capabilities"] == {"drop": ["ALL"]}, name
        assert settings["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert not settings.get("privileged"), name


def test_every_container_has_cpu_and_memory_requests_and_limits(objects: list[Manifest]) -> None:
    for spec in every_container(objects):
        for bound in ("requests", "limits"):
            assert set(spec["resources"][bound]) == {"cpu", "memory"}, spec["name"]


def test_the_pod_shares_nothing_with_the_node_and_holds_no_token(objects: list[Manifest]) -> None:
    spec = pod_spec(objects)
    for shared in ("hostNetwork", "hostPID", "hostIPC"):
        assert not spec.get(shared), shared
    assert spec["automountServiceAccountToken"] is False
    account = the(objects, "ServiceAccount", spec["serviceAccountName"])
    assert account["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False


def test_only_bounded_empty_dirs_are_mounted(objects: list[Manifest]) -> None:
    """No hostPath, no persistent volume: nothing outlives the pod or reaches the node. The one
    other volume allowed is the API key digests' Secret (components/api-keys), mounted read-only."""
    spec = pod_spec(objects)
    for volume in spec["volumes"]:
        if volume["name"] == "api-keys":
            assert set(volume) == {"name", "secret"}
            mounts = [m for c in spec["containers"] for m in c.get("volumeMounts", [])]
            assert all(m["readOnly"] for m in mounts if m["name"] == "api-keys")
            continue
        assert set(volume) == {"name", "emptyDir"}, volume["name"]
        assert volume["emptyDir"]["sizeLimit"], volume["name"]


def test_the_api_writes_only_to_a_small_in_memory_tmp(objects: list[Manifest]) -> None:
    api = container(objects)
    writable = {m["mountPath"] for m in api["volumeMounts"] if not m.get("readOnly")}
    assert writable == API_WRITABLE_PATHS
    tmp = next(m["name"] for m in api["volumeMounts"] if m["mountPath"] == "/tmp")
    volume = next(v for v in pod_spec(objects)["volumes"] if v["name"] == tmp)
    assert volume["emptyDir"]["medium"] == "Memory"


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlays_enforce_the_restricted_pod_security_standard(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    """The API server then refuses any pod that loosens the settings checked above."""
    (namespace,) = all_of(rendered[name], "Namespace")
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    # The version the manifests are validated against (test_render.py): admission and the
    # schema check agree on what "restricted" means.
    assert labels["pod-security.kubernetes.io/enforce-version"] == f"v{OLDEST_SUPPORTED}"
