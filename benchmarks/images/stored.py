"""The run's numbers as docs/images.json, and back: what `--render-only` redraws from.

The file holds everything the report prints (the images as measured, each one's Result,
and the run's context: command, date, machine, engine, base images, build args, load), so
docs/images.md and its size chart come back from it without Docker or a new measurement.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.images.catalogue import Image, Result


def save(
    path: Path, images: tuple[Image, ...], results: dict[str, Result], context: dict[str, Any]
) -> None:
    document = {
        "context": context,
        "images": [asdict(image) for image in images],
        "results": {key: asdict(result) for key, result in results.items()},
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def load(path: Path) -> tuple[tuple[Image, ...], dict[str, Result], dict[str, Any]]:
    document = json.loads(path.read_text())
    images = tuple(
        Image(**{**entry, "run_options": tuple(entry["run_options"]),
                 "build_extra": tuple(entry["build_extra"])})
        for entry in document["images"]
    )  # fmt: skip
    results = {key: Result(**values) for key, values in document["results"].items()}
    return images, results, document["context"]
