"""An image at rest: size, layers, user, healthcheck, shell and pip, compressed size."""

from __future__ import annotations

import json
import subprocess
import uuid
import zlib

from benchmarks.errors import BenchError
from benchmarks.images.catalogue import LABEL, Image, Result
from tooling.docker import DOCKER, docker

# Run inside each image with its serving interpreter: pip executables on PATH, and pip importable.
PIP_PROBE = (
    "import importlib.util, os, shutil\n"
    "dirs = os.environ['PATH'].split(':') + ['/usr/local/bin', '/usr/bin']\n"
    "found = [p for d in dirs for n in ('pip', 'pip3') if (p := shutil.which(n, path=d))]\n"
    "exes = sorted({os.path.realpath(p) for p in found})\n"
    "print(' '.join(exes + (['import pip'] if importlib.util.find_spec('pip') else [])))\n"
)


def measure_static(image: Image, result: Result) -> None:
    info = json.loads(docker("image", "inspect", image.tag).stdout)[0]
    result.size = info["Size"]
    result.layers = len(info["RootFS"]["Layers"])
    result.config_user = info["Config"].get("User") or "(none: root)"
    health = info["Config"].get("Healthcheck") or {}
    result.healthcheck = bool(health.get("Test")) and health["Test"] != ["NONE"]
    probe = ("run", "--rm", "--label", LABEL, "--name", f"bankchurn-bench-{uuid.uuid4().hex[:10]}")
    shell = docker(*probe, "--entrypoint", "/bin/sh", image.tag, "-c", "true", check=False)
    result.shell = shell.returncode == 0
    probe = ("run", "--rm", "--label", LABEL, "--name", f"bankchurn-bench-{uuid.uuid4().hex[:10]}")
    pip = docker(*probe, "--entrypoint", "python", image.tag, "-c", PIP_PROBE, check=False)
    if pip.returncode != 0:
        raise BenchError(f"pip probe failed in {image.tag}:\n{pip.stderr}")
    result.pip = pip.stdout.strip() or "no"


def gzip_size(tag: str) -> int:
    """Bytes of `docker save TAG | gzip -6`, computed while streaming (nothing written to disk)."""
    with subprocess.Popen([DOCKER, "save", tag], stdout=subprocess.PIPE) as save:
        assert save.stdout is not None  # noqa: S101 (stdout=PIPE)
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip container
        total = 0
        while chunk := save.stdout.read(1 << 20):
            total += len(compressor.compress(chunk))
        total += len(compressor.flush())
    if save.returncode != 0:
        raise BenchError(f"docker save {tag} failed ({save.returncode})")
    return total
