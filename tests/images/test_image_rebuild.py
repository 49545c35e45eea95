"""Rebuilds: a code-only change reuses the dependency layers of levels 2 and production, and
production's documented scikit-learn variant (--build-arg BACKEND=sklearn) builds and serves."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bankchurn.predictor import load_checked_predictor, predict_records
from bankchurn.schema import EXAMPLE_CUSTOMER
from tests.images.imagetools import Containers, docker, run_options
from tooling.docker import DOCKER
from tooling.paths import REPO_ROOT

pytestmark = pytest.mark.docker
BUILD_ARGS = REPO_ROOT / ".cache" / "images" / "build-args"
STEP = re.compile(r"^#(\d+) \[[^\]]+\] (.*)$")


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files git sees in the repository (no .venv, no ignored data), copied elsewhere."""
    listed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "--cached", "--others", "--exclude-standard",
         "-z"],
        capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    copy = tmp_path_factory.mktemp("checkout")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    return copy


@pytest.fixture
def tags() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    if made:
        docker("rmi", *made, check=False)


def build(context: Path, level: str, tag: str, *extra: str) -> str:
    """Build with the args scripts/images/build.sh used (same cache keys); return BuildKit's log."""
    if not BUILD_ARGS.is_file():
        pytest.fail(f"{BUILD_ARGS} missing: build the images with scripts/images/build.sh first")
    args = [line for line in BUILD_ARGS.read_text().splitlines() if line]
    result = subprocess.run(
        [DOCKER, "build", "--progress=plain", "--file", f"docker/Dockerfile.{level}", "--tag", tag,
         *args, *extra, "."],
        cwd=context, capture_output=True, text=True, timeout=300,
        env={"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin"}, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def cached_steps(log: str) -> dict[str, bool]:
    """Each BuildKit step's instruction -> whether it came from the cache."""
    names = {m[1]: m[2] for line in log.splitlines() if (m := STEP.match(line))}
    cached = {m[1] for line in log.splitlines() if (m := re.match(r"^#(\d+) CACHED$", line))}
    return {name: number in cached for number, name in names.items()}


def layers(image: str) -> list[str]:
    listing = docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", image).stdout
    return re.findall(r"sha256:[0-9a-f]+", listing)


@pytest.mark.parametrize("level", ["level2", "production"])
def test_code_change_reuses_the_dependency_layers(checkout: Path, tags: list[str], level: str):
    before, after = f"bankchurn-rebuild-test:{level}-before", f"bankchurn-rebuild-test:{level}"
    tags += [before, after]
    build(checkout, level, before)
    health = checkout / "app" / "routes" / "health.py"
    original = health.read_text()
    # Unique per run: a change BuildKit has seen before would come from its cache too.
    health.write_text(original + f"# A code-only change ({uuid.uuid4()}): deps from cache.\n")
    try:
        log = build(checkout, level, after)
    finally:
        health.write_text(original)

    steps = cached_steps(log)
    install = [cached for name, cached in steps.items() if "install --require-hashes" in name]
    venv = [cached for name, cached in steps.items() if "COPY --from=builder /opt/venv" in name]
    code = [cached for name, cached in steps.items() if "COPY app/ /app/app/" in name]
    assert install == [True], "the dependency install ran again:\n" + log[-3000:]
    assert venv == [True]
    assert code == [False], "the changed code was not copied"
    old, new = layers(before), layers(after)
    # Same layers up to the code: base, venv and model are shared; only the code's layers differ.
    assert len(old) == len(new)
    assert 1 <= len(set(new) - set(old)) <= 2, (old, new)
    assert new[: len(new) - 2] == old[: len(old) - 2]


def test_the_scikit_learn_variant_of_production_builds_and_serves(
    checkout: Path, tags: list[str], containers: Containers
) -> None:
    """The variant keeps what scikit-learn imports: trimming numpy's f2py from it (the ONNX
    image does without) once made every model load fail with ModuleNotFoundError."""
    tag = f"bankchurn-rebuild-test:production-sklearn-{uuid.uuid4().hex[:8]}"
    tags.append(tag)
    build(checkout, "production", tag, "--build-arg", "BACKEND=sklearn")

    container = containers.run(tag, *run_options("production"))
    container.wait_ready()
    status, answer = container.post("/predict", EXAMPLE_CUSTOMER)

    assert status == 200, answer
    [expected] = predict_records(load_checked_predictor(REPO_ROOT / "models"), [EXAMPLE_CUSTOMER])
    assert abs(answer["churn_probability"] - expected) <= 1e-12
    _, model = container.get("/model")
    assert json.loads(model)["serving"]["backend"] == "sklearn"
