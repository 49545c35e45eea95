"""The compose `train` job: train, log and register in MLflow, then export the champion.

One run of the champion/challenger flow, as the image's entrypoint:

1. data: ``TRAIN_DATA`` (a CSV path inside the container, e.g. a mounted Kaggle file),
   or, when it is empty, ``TRAIN_SYNTH_ROWS`` synthetic rows (seed ``TRAIN_SYNTH_SEED``);
2. ``bankchurn train``: logs the run to ``MLFLOW_TRACKING_URI``, registers a new version
   of ``bankchurn`` and moves the ``champion`` alias only if it beats the champion;
3. ``bankchurn model export``: downloads whichever version is champion *now* (the new one
   or the old one) into ``EXPORT_DIR/versions/<version>``, then repoints the symlink
   ``EXPORT_DIR/champion`` at it in one atomic rename, so an API reading the folder
   never sees a half-written model.

``job.py --export-only`` skips 1 and 2: after moving the alias by hand (a rollback), it
publishes the version the alias now names.

Exits 0 once the champion is published; 2 with one message on stderr when the input or
the registry is unusable (the CLI's convention).
Standard library plus the bankchurn CLI only; no shell needed.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bankchurn.cli import main as bankchurn

CHAMPION_URI = "models:/bankchurn@champion"
CHAMPION_LINK = "champion"


def env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def publish(staging: Path, export_dir: Path, version: str) -> Path:
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


def registered_version(model_dir: Path) -> str:
    card = json.loads((model_dir / "model_card.json").read_text())
    return str(card["mlflow"]["registered_version"])


def run(args: list[str]) -> int:
    if args not in ([], ["--export-only"]):
        print("usage: job.py [--export-only]", file=sys.stderr)
        return 2
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if not tracking_uri:
        print("train job: set MLFLOW_TRACKING_URI (e.g. http://mlflow:5000)", file=sys.stderr)
        return 2
    if not args:
        code = train(tracking_uri)
        if code:
            return code
    return export(tracking_uri, Path(env("EXPORT_DIR", "/models")))


def train(tracking_uri: str) -> int:
    """Steps 1 and 2: the data, then a registered, logged run and the champion decision."""
    config = env("TRAIN_CONFIG", "configs/train.yaml")
    work = Path(tempfile.mkdtemp(prefix="bankchurn-train-"))
    data = os.environ.get("TRAIN_DATA", "").strip()
    if not data:
        data = str(work / "synthetic.csv")
        rows, seed = env("TRAIN_SYNTH_ROWS", "10000"), env("TRAIN_SYNTH_SEED", "42")
        code = bankchurn(["data", "synth", "--rows", rows, "--seed", seed, "--out", data])
        if code:
            return code
    elif not Path(data).is_file():
        print(
            f"train job: TRAIN_DATA={data} is not a file in the container; mount the folder "
            "holding it (BANKCHURN_DATA_DIR, mounted at /data) and name it as /data/<file>.csv",
            file=sys.stderr,
        )
        return 2

    command = ["train", "--data", data, "--out", str(work / "model"), "--config", config]
    code = bankchurn([*command, "--tracking-uri", tracking_uri])
    shutil.rmtree(work, ignore_errors=True)
    return code


def export(tracking_uri: str, export_dir: Path) -> int:
    """Step 3: whichever version is champion now, published atomically for the API."""
    staging = export_dir / f".export-{os.getpid()}"
    command = ["model", "export", "--uri", CHAMPION_URI, "--out", str(staging)]
    code = bankchurn([*command, "--tracking-uri", tracking_uri])
    if code:
        shutil.rmtree(staging, ignore_errors=True)
        return code
    target = publish(staging, export_dir, registered_version(staging))
    print(f"champion (version {target.name}) published at {export_dir / CHAMPION_LINK}")
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
