"""What the image benchmark measures: the images, and the record it fills for each."""

from __future__ import annotations

from dataclasses import dataclass, field

from tooling.docker import HARDENED
from tooling.images_env import image_names
from tooling.paths import TOOLS_BIN

HADOLINT = TOOLS_BIN / "hadolint"
LABEL = "bankchurn-bench-images"
# Timed builds go to this scratch repository (removed at the end), never to the project's tags.
BUILD_TAG = "bankchurn-bench-build"
READY_TIMEOUT = 60.0
HEALTHY_TIMEOUT = 60.0
PREDICTS = 200
MB = 1_000_000  # decimal megabytes, as `docker images` reports them


@dataclass(frozen=True)
class Image:
    key: str
    title: str
    tag: str
    dockerfile: str
    run_options: tuple[str, ...]
    build_extra: tuple[str, ...] = ()


def catalogue() -> tuple[Image, ...]:
    """The three images scripts/images/images.env names, then production's scikit-learn
    variant, which this benchmark builds itself (the last one)."""
    tags = image_names()
    production = tags["production"]
    return (
        Image("level1", "level1", tags["level1"], "docker/Dockerfile.level1", ()),
        Image("level2", "level2", tags["level2"], "docker/Dockerfile.level2", HARDENED),
        Image("production", "production", production, "docker/Dockerfile.production", HARDENED),
        Image("sklearn", "production (sklearn variant)", f"{production}-sklearn",
              "docker/Dockerfile.production", HARDENED, ("--build-arg", "BACKEND=sklearn")),
    )  # fmt: skip


@dataclass
class Result:
    size: int = 0
    compressed: int = 0
    layers: int = 0
    config_user: str = ""
    uids: str = ""
    shell: bool = False
    pip: str = ""
    healthcheck: bool = False
    healthy: str = ""
    starts: list[float] = field(default_factory=list)
    # Of each start, the seconds before the container's process ran (docker's own work).
    docker_shares: list[float] = field(default_factory=list)
    rss_idle: float = 0.0
    rss_after: float = 0.0
    cgroup_idle: str = ""
    cgroup_after: str = ""
    predicts_ok: int = 0
    stop_seconds: float = 0.0
    exit_code: str = ""
    build_cold: float | None = None
    build_warm: float | None = None
    hadolint: list[str] = field(default_factory=list)

    def own_starts(self) -> list[float]:
        """Each start less docker's share: the image's own start-up (none if not measured)."""
        if not self.docker_shares:
            return []
        return [start - share for start, share in zip(self.starts, self.docker_shares, strict=True)]
