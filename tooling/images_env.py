"""The one reader of KEY=VALUE files such as scripts/images/images.env.

Those files are also `source`d by bash, so they hold only comments, blank lines and
``KEY=VALUE`` lines; this reads them the way bash would see them for such plain values.
"""

from __future__ import annotations

from pathlib import Path

from tooling.paths import IMAGES_ENV

IMAGE_PREFIX = "BANKCHURN_IMAGE_"


def key_values(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of ``path`` (comments and lines without ``=`` ignored)."""
    pairs = (line.partition("=") for line in path.read_text().splitlines())
    return {
        key.strip(): value.strip()
        for key, found, value in pairs
        if found and not key.lstrip().startswith("#")
    }


def image_names(path: Path = IMAGES_ENV) -> dict[str, str]:
    """The project's images by level: ``{"level1": "bankchurn:level1", ...}``."""
    return {
        key.removeprefix(IMAGE_PREFIX).lower(): value
        for key, value in key_values(path).items()
        if key.startswith(IMAGE_PREFIX)
    }


def image(level: str, path: Path = IMAGES_ENV) -> str:
    """One image's name (``level1``, ``level2`` or ``production``)."""
    names = image_names(path)
    if level not in names:
        raise KeyError(f"{path} names no {IMAGE_PREFIX}{level.upper()} (it has {sorted(names)})")
    return names[level]
