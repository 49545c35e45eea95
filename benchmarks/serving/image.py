"""The production image's cold start, as a pod starts it: `docker run` to the first prediction."""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks.containers import Containers, time_to_answer
from benchmarks.errors import BenchError
from benchmarks.loopback import post
from benchmarks.serving.payload import Payload
from tooling.docker import HARDENED, image_exists
from tooling.images_env import image as image_name

LABEL = "bankchurn-bench-serving"


def production_image_cold_start(payload: Payload, runs: int, cpu: int) -> dict[str, Any]:
    """docker run (hardened as compose runs it, on one core) to the first 200 from /predict."""
    image = image_name("production")
    if not image_exists(image):
        raise BenchError(f"{image} is not built (or the engine is down): run `make images` first")
    # The container's own tmpfs for /tmp, as compose mounts it.
    options = (*HARDENED, "--tmpfs", "/tmp", "--cpuset-cpus", str(cpu))  # noqa: S108

    def predicted(url: str) -> bool:
        return post(url + payload.path, payload.body, timeout=2.0)[0] == 200

    containers = Containers(LABEL)
    times = []
    try:
        for _ in range(runs):
            container = containers.start(image, options)
            times.append(time_to_answer(container, predicted, interval=0.01))
            containers.remove(container.name)
    finally:
        containers.remove_all()
    return {"image": image, "median_s": statistics.median(times), "runs": times}
