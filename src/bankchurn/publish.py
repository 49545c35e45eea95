"""Publish the registry's champion as a folder the API serves, switched over atomically.

``EXPORT_DIR/versions/<version>`` holds each published version; ``EXPORT_DIR/champion``
is a relative symlink to one of them, repointed in one rename, so an API reading the
folder never sees a half-written model. The compose `train` job and the Kubernetes init
container (infra/train/job.py) run this as ``bankchurn model publish``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bankchurn.artifacts import read_card
from bankchurn.registry import CHAMPION_ALIAS, REGISTERED_MODEL, RegistryError, export_model

CHAMPION_URI = f"models:/{REGISTERED_MODEL}@{CHAMPION_ALIAS}"
CHAMPION_LINK = "champion"


def publish_version(staging: Path, export_dir: Path, version: str) -> Path:
    """Move an exported model to versions/<version> and point champion at it atomically."""
    versions = export_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    target = versions / version
    if target.exists():
        # Registered versions are immutable: the copy already published (perhaps being
        # served right now) is the same files, so keep it and drop the new download.
        shutil.rmtree(staging)
    else:
        staging.rename(target)
    link = export_dir / CHAMPION_LINK
    temporary = export_dir / f".{CHAMPION_LINK}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(Path("versions") / version)  # relative: valid wherever the volume mounts
    temporary.replace(link)
    return target


def publish_champion(tracking_uri: str, export_dir: Path, model_uri: str = CHAMPION_URI) -> Path:
    """Export whichever version ``model_uri`` names now, verified, and publish it."""
    staging = export_dir / f".export-{os.getpid()}"
    try:
        export_model(tracking_uri, model_uri, staging)
        version = read_card(staging).get("mlflow", {}).get("registered_version")
        if not version:
            raise RegistryError(f"the card exported from {model_uri} names no registered version")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return publish_version(staging, export_dir, str(version))
