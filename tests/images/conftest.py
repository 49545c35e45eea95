"""Real containers of the three images (built by ``scripts/images/build.sh all`` beforehand).

Every test module here is marked ``docker`` (``pytestmark``) and FAILS, never skips, when
the engine or an image is missing: CI runs this suite to prove the images, so "could not
check" is a failure. Containers publish port 8000 on a random loopback port only and are
always removed, even when a test fails.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.images.imagetools import (
    IMAGES,
    LABEL,
    Container,
    Containers,
    docker,
    require_image,
    run_options,
)
from tooling.docker import DOCKER


@pytest.fixture(scope="session", autouse=True)
def engine() -> None:
    """The engine must answer: without it nothing here can be proven."""
    result = docker("info", "--format", "{{.ServerVersion}}", check=False)
    if result.returncode != 0:
        pytest.fail(f"no Docker engine answers (run scripts/images/engine.sh):\n{result.stderr}")


@pytest.fixture
def containers() -> Iterator[Containers]:
    """Containers for one test, removed when it ends."""
    started = Containers()
    yield started
    started.remove_all()


@pytest.fixture(scope="session")
def session_containers() -> Iterator[Containers]:
    started = Containers()
    yield started
    started.remove_all()


@pytest.fixture(scope="session")
def served(session_containers: Containers) -> dict[str, Container]:
    """One ready container per image, started together, shared by the read-only tests."""
    running = {
        level: session_containers.run(image, *run_options(level)) for level, image in IMAGES.items()
    }
    with ThreadPoolExecutor(len(running)) as pool:
        list(pool.map(Container.wait_ready, running.values()))
    return running


@pytest.fixture(scope="session")
def filesystems() -> dict[str, list[str]]:
    """Every path in each image (`docker export` of a created, never started, container)."""
    listings: dict[str, list[str]] = {}
    for level, image in IMAGES.items():
        require_image(image)
        container = docker("create", "--label", LABEL, image).stdout.strip()
        try:
            export = subprocess.Popen([DOCKER, "export", container], stdout=subprocess.PIPE)
            listing = subprocess.run(
                ["tar", "-t"], stdin=export.stdout, capture_output=True, text=True, check=True
            )
            export.wait(timeout=120)
        finally:
            docker("rm", "--force", container, check=False)
        listings[level] = ["/" + path.rstrip("/") for path in listing.stdout.splitlines()]
    return listings
