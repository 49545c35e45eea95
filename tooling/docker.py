"""The docker client the project drives, and the hardened way its images run.

Debian's client (apt docker.io) at /usr/bin/docker: it drives the engine's built-in
BuildKit, while a Docker 28 client without the buildx plugin cannot
(docs: /work/shared/docs/build-environment.md, "Docker engine").
"""

from __future__ import annotations

import shlex
import subprocess

DOCKER = "/usr/bin/docker"
# How levels 2 and production must run: nothing writable, no capabilities, no setuid.
HARDENED = ("--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges")


class DockerError(RuntimeError):
    """A docker command failed, or the client is missing; the message says which and why."""


def docker(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the client with text output captured; with ``check``, a failure raises DockerError."""
    try:
        result = subprocess.run(  # noqa: S603 (a fixed executable, arguments as a list)
            [DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as error:
        raise DockerError(
            f"{DOCKER} not found: run scripts/images/engine.sh (installs docker.io)"
        ) from error
    if check and result.returncode != 0:
        raise DockerError(
            f"docker {shlex.join(args)} failed ({result.returncode}):\n{result.stderr}"
        )
    return result


def image_exists(image: str) -> bool:
    return docker("image", "inspect", image, check=False).returncode == 0
