"""The compose `train` job: train, log and register in MLflow, then export the champion.

One run of the champion/challenger flow, as the image's entrypoint:

1. data: ``TRAIN_DATA`` (a CSV path inside the container, e.g. a mounted Kaggle file),
   or, when it is empty, ``TRAIN_SYNTH_ROWS`` synthetic rows (seed ``TRAIN_SYNTH_SEED``);
2. ``bankchurn train``: logs the run to ``MLFLOW_TRACKING_URI``, registers a new version
   of ``bankchurn`` and moves the ``champion`` alias only if it beats the champion;
3. ``bankchurn model publish``: downloads whichever version is champion *now* (the new
   one or the old one) into ``EXPORT_DIR/versions/<version>``, then repoints the symlink
   ``EXPORT_DIR/champion`` at it in one atomic rename, so an API reading the folder
   never sees a half-written model (bankchurn.publish).

``job.py --export-only`` skips 1 and 2: after moving the alias by hand (a rollback), it
publishes the version the alias now names.

Exits 0 once the champion is published; 2 with one message on stderr when the input or
the registry is unusable (the CLI's convention).
A thin entrypoint: every step is a bankchurn CLI command; no shell needed.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from bankchurn.cli import main as bankchurn


def env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


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
    command = ["model", "publish", "--export-dir", str(export_dir)]
    return bankchurn([*command, "--tracking-uri", tracking_uri])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
