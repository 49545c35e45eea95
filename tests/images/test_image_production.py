"""Production: only the service (no shell, no pip); several workers on a read-only root."""

from __future__ import annotations

import json
import re

import pytest

from bankchurn.schema import EXAMPLE_CUSTOMER
from tests.images.imagetools import IMAGES, Containers, docker
from tooling.docker import HARDENED
from tooling.net import wait_until

pytestmark = pytest.mark.docker
IMAGE = IMAGES["production"]
SHELLS = {"sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"}
SITE_PACKAGES = "/opt/venv/lib/python3.13/site-packages"
ONNXRUNTIME = f"{SITE_PACKAGES}/onnxruntime"


def test_no_shell_can_be_started():
    result = docker("run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", IMAGE,
                    "-c", "true", check=False)  # fmt: skip

    assert result.returncode != 0
    assert "no such file or directory" in result.stderr.lower(), result.stderr


def test_filesystem_holds_no_shell_binary(filesystems: dict[str, list[str]]):
    shells = [path for path in filesystems["production"] if path.rsplit("/", 1)[-1] in SHELLS]

    assert shells == []


def test_filesystem_holds_no_pip(filesystems: dict[str, list[str]]):
    paths = filesystems["production"]
    pip = [p for p in paths if re.fullmatch(rf"{SITE_PACKAGES}/pip(-[^/]*\.dist-info)?", p)]

    assert "/opt/venv/bin/pip" not in paths
    assert pip == []
    assert not [p for p in paths if p.startswith("/usr/bin/pip") or p.startswith("/usr/bin/apt")]


def test_serves_onnx_without_scikit_learn_scipy_or_pandas(filesystems: dict[str, list[str]]):
    installed = {
        p.removeprefix(f"{SITE_PACKAGES}/").split("/")[0].split("-")[0].lower()
        for p in filesystems["production"]
        if p.startswith(f"{SITE_PACKAGES}/")
    }

    assert "onnxruntime" in installed
    assert installed.isdisjoint({"sklearn", "scikit_learn", "scipy", "pandas", "joblib"})


# What the ONNX image leaves out because serving never loads it (docker/Dockerfile.production says
# why for each); the serving tests prove the image answers the same probabilities without them.
NOT_SHIPPED = {
    "the scikit-learn pickle": re.compile(r"^/app/models/model\.joblib$"),
    "onnxruntime's C API library": re.compile(rf"^{ONNXRUNTIME}/capi/libonnxruntime\.so"),
    "onnxruntime's tools": re.compile(
        rf"^{ONNXRUNTIME}/(transformers|quantization|tools|datasets)(/|$)"
    ),
    "numpy's f2py": re.compile(rf"^{SITE_PACKAGES}/numpy/f2py(/|$)"),
}


@pytest.mark.parametrize("what", list(NOT_SHIPPED))
def test_ships_nothing_serving_never_loads(filesystems: dict[str, list[str]], what: str):
    found = [path for path in filesystems["production"] if NOT_SHIPPED[what].search(path)]

    assert found == [], f"{IMAGE} contains {what}: {found[:5]}"


def test_keeps_the_onnxruntime_binding_that_serves(filesystems: dict[str, list[str]]):
    prefix = f"{ONNXRUNTIME}/capi/onnxruntime_pybind11_state"
    binding = [p for p in filesystems["production"] if p.startswith(prefix)]

    assert len(binding) == 1, binding


def count_ready_workers(logs: str) -> int:
    """How many distinct worker pids have logged that their model is ready."""
    pids = set()
    for line in logs.splitlines():
        if line.startswith("{") and '"model ready"' in line:
            pids.add(json.loads(line)["pid"])
    return len(pids)


def test_two_workers_on_a_read_only_root_add_up_their_metrics(containers: Containers):
    # A tmpfs only at /tmp, where the entrypoint puts prometheus_client's multiprocess folder.
    container = containers.run(
        IMAGE, *HARDENED, "--tmpfs", "/tmp:rw,noexec,nosuid,size=16m", "--env", "WEB_CONCURRENCY=2"
    )
    container.wait_ready()
    workers = docker("top", container.id, "-o", "pid,args").stdout.count("spawn_main(")
    # Both workers must be ready before counting. /ready cannot tell: it is answered by whichever
    # worker accepts the connection, often the same one many times. Each worker logs its own
    # "model ready" line, with its pid.
    wait_until(lambda: count_ready_workers(container.logs()) >= 2 or None, timeout=30, interval=0.2)
    ready = count_ready_workers(container.logs())
    requests = 30
    statuses = [container.post("/predict", EXAMPLE_CUSTOMER)[0] for _ in range(requests)]

    status, body = container.get("/metrics")

    assert workers == 2, docker("top", container.id).stdout
    assert ready == 2, container.logs()[-3000:]
    assert statuses == [200] * requests
    assert status == 200
    totals = re.findall(rb'^bankchurn_predictions_total\{outcome="[a-z_]+"\} (\S+)$', body, re.M)
    assert sum(float(value) for value in totals) == requests, body.decode()[-3000:]
    assert re.search(rb"^bankchurn_model_ready 1\.0$", body, re.M)


def test_entrypoint_is_exec_form_python_running_serve():
    """The venv's python runs serve.py, which runs uvicorn: no shell anywhere."""
    entrypoint = docker("image", "inspect", "--format", "{{json .Config.Entrypoint}}", IMAGE)

    assert entrypoint.stdout.strip() == '["/opt/venv/bin/python","/app/serve.py"]'
