"""Builds: the recorded build args, timed builds, labels, base images, hadolint, preflight."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import subprocess
import time

from benchmarks.errors import BenchError
from benchmarks.images.catalogue import HADOLINT, Image
from benchmarks.loopback import http_status
from tooling.docker import DOCKER, docker, image_exists
from tooling.paths import BUILD_ARGS_FILE, REPO_ROOT


def build(image: Image, tag: str, build_args: list[str], labels: list[str], *flags: str) -> float:
    command = [
        DOCKER, "build", "--progress=plain", "--file", str(REPO_ROOT / image.dockerfile),
        "--tag", tag,
        *flags, *build_args, *image.build_extra, *labels, str(REPO_ROOT),
    ]  # fmt: skip
    started = time.monotonic()
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )  # fmt: skip
    if result.returncode != 0:
        raise BenchError(f"{shlex.join(command)} failed:\n{result.stderr[-3000:]}")
    return time.monotonic() - started


def label_args(tag: str) -> list[str]:
    """VERSION/REVISION/CREATED as the existing image was built with, so a warm build matches it."""
    labels = json.loads(docker("image", "inspect", tag).stdout)[0]["Config"].get("Labels") or {}
    args = []
    for arg, key in (("VERSION", "version"), ("REVISION", "revision"), ("CREATED", "created")):
        if value := labels.get(f"org.opencontainers.image.{key}"):
            args += ["--build-arg", f"{arg}={value}"]
    return args


def hadolint(dockerfile: str) -> list[str]:
    result = subprocess.run(
        [str(HADOLINT), "--no-fail", "--format", "json", dockerfile],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=60, check=False,
    )  # fmt: skip
    findings = json.loads(result.stdout or "[]")
    return [f"{f['code']} ({f['level']}, line {f['line']}): {f['message']}" for f in findings]


def read_build_args() -> list[str]:
    if not BUILD_ARGS_FILE.exists():
        raise BenchError(
            f"{BUILD_ARGS_FILE} missing: build the images with scripts/images/build.sh all"
        )
    return [line for line in BUILD_ARGS_FILE.read_text().splitlines() if line]


def base_images(images: tuple[Image, ...], build_args: list[str]) -> dict[str, str]:
    """Each base-image build arg: the recorded value, else the Dockerfile's upstream default."""
    passed = dict(
        value.split("=", 1) for flag, value in itertools.pairwise(build_args)
        if flag == "--build-arg" and "=" in value
    )  # fmt: skip
    bases = {}
    for dockerfile in sorted({image.dockerfile for image in images}):
        text = (REPO_ROOT / dockerfile).read_text()
        for name, default in re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", text, re.M):
            bases[name] = passed.get(name, default)
    return bases


def preflight(images: tuple[Image, ...], build_args: list[str]) -> None:
    if not HADOLINT.is_file():
        raise BenchError(f"{HADOLINT} missing: create .venv-tools with `make lint-static`")
    if docker("info", "--format", "{{.ServerVersion}}", check=False).returncode != 0:
        raise BenchError("no Docker engine answers: run scripts/images/engine.sh")
    for image in images[:3]:
        if not image_exists(image.tag):
            raise BenchError(
                f"image {image.tag} is missing: build it with scripts/images/build.sh all"
            )
    for value in build_args:
        if value.startswith("PIP_FIND_LINKS=http"):
            url = value.split("=", 1)[1]
            try:
                http_status("GET", url)
            except OSError as error:
                raise BenchError(
                    f"wheelhouse {url} does not answer ({error}): run scripts/images/wheelhouse.sh "
                    "start"
                ) from error
