"""The project's version has one source, pyproject.toml; where a file must spell it, it agrees.

Builds pass it (scripts/lib.sh reads it; build.sh and standins.sh hand it to the Dockerfiles
as VERSION), so no Dockerfile carries a version of its own. A compose default and an image
tag in deploy/k8s cannot be computed: they are checked against pyproject here instead.
The OCI labels that carry it (and the base image's name) see every variable they name.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.compose.composetools import ENV_EXAMPLE
from tooling.paths import REPO_ROOT

VERSION = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
DOCKERFILES = sorted(
    path for path in (REPO_ROOT / "docker").glob("Dockerfile.*") if path.suffix != ".dockerignore"
)
TRAIN_IMAGE = f"bankchurn-train:{VERSION}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_no_dockerfile_carries_its_own_version(dockerfile: Any) -> None:
    text = dockerfile.read_text()
    defaults = re.findall(r"^ARG VERSION(?:=(\S*))?$", text, re.M)
    assert defaults in ([], ["unknown"]), f"{dockerfile.name}: ARG VERSION defaults {defaults}"
    assert VERSION not in text


def test_the_shell_library_reads_pyprojects_version() -> None:
    result = subprocess.run(
        ["bash", "-c", 'source scripts/lib.sh && printf %s "${version}"'],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == VERSION


def test_the_training_image_tag_is_the_project_version_everywhere(compose: dict[str, Any]) -> None:
    patch = REPO_ROOT / "deploy" / "k8s" / "components" / "mlflow-model" / "deployment-patch.yaml"

    assert compose["services"]["train"]["image"] == f"${{TRAIN_IMAGE:-{TRAIN_IMAGE}}}"
    assert f"image: {TRAIN_IMAGE}" in patch.read_text()
    assert f"# TRAIN_IMAGE={TRAIN_IMAGE}" in ENV_EXAMPLE.read_text()


def _stages(dockerfile: Path) -> list[list[str]]:
    """The instructions of each stage (continuation lines joined, comments dropped)."""
    joined = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [line.strip() for line in joined.splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    stages: list[list[str]] = []
    for instruction in instructions:
        if instruction.upper().startswith("FROM "):
            stages.append([])
        elif stages:
            stages[-1].append(instruction)
    return stages


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_every_label_variable_is_declared_in_its_stage(dockerfile: Path) -> None:
    """An ARG declared before the first FROM is not visible inside a stage: a LABEL that names
    it there is empty unless the stage declares it again (Dockerfile.train's base name was)."""
    for number, stage in enumerate(_stages(dockerfile)):
        declared = {
            name
            for instruction in stage
            for name in re.findall(r"^(?:ARG|ENV)\s+([A-Za-z_][A-Za-z0-9_]*)", instruction)
        }
        for instruction in stage:
            if instruction.startswith("LABEL "):
                used = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", instruction))
                assert used <= declared, f"{dockerfile.name} stage {number}: {used - declared}"
