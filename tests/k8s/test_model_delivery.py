"""Model delivery: baked into the image (the default), or exported from the MLflow registry by
an init container (components/mlflow-model) into exactly the folder the API then reads.

The export side is infra/train/job.py, the compose stack's job, a thin entrypoint over
`bankchurn model publish` (bankchurn.publish, imported here for its constants); it is
proven end to end against a real MLflow by tests/compose/test_stack*.py, with the same
users (10001 writes, 65532 reads) and a read-only root.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from bankchurn.publish import CHAMPION_LINK
from tests.k8s.k8stools import (
    PRODUCTION_DOCKERFILE,
    TRAIN_DOCKERFILE,
    Manifest,
    all_of,
    compose_default_image,
    container,
    dockerfile_instructions,
    env,
    parts,
    pod_spec,
    security,
    the,
)
from tooling.paths import REPO_ROOT

INIT_CONTAINER = "fetch-model"
BAKED = ("base", "overlays/production")


def mount(container_spec: Manifest, volume: str) -> Manifest:
    mounts: list[Manifest] = container_spec["volumeMounts"]
    (found,) = [m for m in mounts if m["name"] == volume]
    return found


@pytest.mark.parametrize("name", BAKED)
def test_by_default_the_api_serves_the_model_baked_into_the_image(
    rendered: dict[str, list[Manifest]], name: str
) -> None:
    objects = rendered[name]
    copies = [line.split()[-2:] for line in dockerfile_instructions(PRODUCTION_DOCKERFILE, "COPY")]
    baked = {destination.rstrip("/") for source, destination in copies if source == "models/"}
    # A builder stage prunes the folder (no model.joblib for ONNX); the final stage copies it on.
    baked |= {destination.rstrip("/") for source, destination in copies if source in baked}
    assert env(container(objects))["BANKCHURN_MODEL_DIR"] in baked
    assert "initContainers" not in pod_spec(objects)
    assert all_of(objects, "ConfigMap") == []


def test_the_init_container_runs_the_training_images_export_step(
    mlflow_overlay: list[Manifest],
) -> None:
    fetch = container(mlflow_overlay, INIT_CONTAINER)
    assert fetch["image"] == compose_default_image("train")
    assert "command" not in fetch, "the image's ENTRYPOINT is job.py"
    assert fetch["args"] == ["--export-only"]


def test_the_api_reads_the_champion_where_the_job_publishes_it(
    mlflow_overlay: list[Manifest],
) -> None:
    fetch, api = container(mlflow_overlay, INIT_CONTAINER), container(mlflow_overlay)
    export_dir = env(fetch)["EXPORT_DIR"]
    assert env(api)["BANKCHURN_MODEL_DIR"] == f"{export_dir}/{CHAMPION_LINK}"
    written = next(m for m in fetch["volumeMounts"] if m["mountPath"] == export_dir)
    assert not written.get("readOnly")
    read = mount(api, written["name"])
    assert read["mountPath"] == export_dir
    assert read["readOnly"] is True, "the API must not be able to alter the model it serves"


def test_the_api_can_read_what_the_init_container_writes(mlflow_overlay: list[Manifest]) -> None:
    """Different uids (the API cannot alter the model); the volume is group-owned by the
    API's group (fsGroup), so it can read it."""
    writer = security(mlflow_overlay, container(mlflow_overlay, INIT_CONTAINER))
    reader = security(mlflow_overlay, container(mlflow_overlay))
    assert writer["runAsUser"] != reader["runAsUser"]
    assert pod_spec(mlflow_overlay)["securityContext"]["fsGroup"] == reader["runAsGroup"]


def test_the_init_container_has_a_writable_home(mlflow_overlay: list[Manifest]) -> None:
    """The MLflow client writes under HOME, which the training image sets; the root is read-only."""
    (home,) = parts(r"(?s).*\bHOME=(\S+).*", TRAIN_DOCKERFILE.read_text())
    fetch = container(mlflow_overlay, INIT_CONTAINER)
    writable = {m["mountPath"] for m in fetch["volumeMounts"] if not m.get("readOnly")}
    assert home in writable


def tracking_uri(objects: list[Manifest]) -> str:
    reference = env(container(objects, INIT_CONTAINER))["MLFLOW_TRACKING_URI"]["configMapKeyRef"]
    uri: str = the(objects, "ConfigMap", reference["name"])["data"][reference["key"]]
    return uri


def test_egress_allows_exactly_dns_and_the_tracking_uri(mlflow_overlay: list[Manifest]) -> None:
    uri = urlsplit(tracking_uri(mlflow_overlay))
    assert uri.hostname is not None
    assert uri.hostname.endswith(".svc.cluster.local"), "an in-cluster Service name"
    namespace = uri.hostname.split(".")[1]
    policy = the(mlflow_overlay, "NetworkPolicy", "bankchurn-api-mlflow-egress")["spec"]
    assert policy["policyTypes"] == ["Egress"]
    dns = {
        "to": [
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                },
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    }
    mlflow = {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}],
        "ports": [{"port": uri.port, "protocol": "TCP"}],
    }
    assert policy["egress"] == [dns, mlflow]


SIDECAR = "follow-champion"
FOLLOW_SCRIPT = REPO_ROOT / "infra" / "train" / "follow.py"


def test_a_sidecar_publishes_each_new_champion_where_the_api_follows_it(
    mlflow_overlay: list[Manifest],
) -> None:
    """A new champion reaches running pods without a rollout: the native sidecar re-runs
    the export into the shared volume, and the API polls the champion link."""
    spec = pod_spec(mlflow_overlay)
    order = [member["name"] for member in spec["initContainers"]]
    assert order == [INIT_CONTAINER, SIDECAR], "the first champion first, then the follower"
    fetch, sidecar = (container(mlflow_overlay, name) for name in (INIT_CONTAINER, SIDECAR))
    api = container(mlflow_overlay)
    assert sidecar["restartPolicy"] == "Always"  # a native sidecar: runs beside the API
    assert sidecar["image"] == fetch["image"]
    copies = dict(line.split()[-2:] for line in dockerfile_instructions(TRAIN_DOCKERFILE, "COPY")
                  if len(line.split()) == 2)  # fmt: skip
    assert sidecar["command"] == ["python", copies["infra/train/follow.py"]]
    assert env(sidecar)["MLFLOW_TRACKING_URI"] == env(fetch)["MLFLOW_TRACKING_URI"]
    assert env(sidecar)["EXPORT_DIR"] == env(fetch)["EXPORT_DIR"]
    assert 1 <= float(env(sidecar)["FOLLOW_SECONDS"]) <= 3600
    written = mount(sidecar, mount(fetch, "models")["name"])
    assert written["mountPath"] == env(sidecar)["EXPORT_DIR"]
    assert not written.get("readOnly")
    assert (
        security(mlflow_overlay, sidecar)["runAsUser"]
        == security(mlflow_overlay, fetch)["runAsUser"]
    )
    assert float(env(api)["BANKCHURN_MODEL_POLL_SECONDS"]) > 0
    assert FOLLOW_SCRIPT.is_file()


@pytest.mark.parametrize("name", BAKED)
def test_the_baked_model_is_not_followed(rendered: dict[str, list[Manifest]], name: str) -> None:
    """Nothing changes an image's model: polling it would only cost stat calls."""
    assert "BANKCHURN_MODEL_POLL_SECONDS" not in env(container(rendered[name]))
