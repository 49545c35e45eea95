"""Container entrypoint: prepare the multiprocess metrics folder, then become uvicorn.

Arguments are uvicorn's (``python serve.py app.fastapi_app:app --host ...``). With several
workers (``WEB_CONCURRENCY``, which uvicorn reads) every worker must write its metrics
to files in ``PROMETHEUS_MULTIPROC_DIR`` so /metrics adds them up (see app/metrics.py),
and that folder must exist and hold no files from an earlier run. Distroless images
have no shell to ``mkdir``/``rm`` in, hence this: it picks a folder under /tmp when
several workers are asked for and none is set, creates and empties it, then ``exec``s
uvicorn, which keeps PID 1 and so receives SIGTERM directly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_MULTIPROCESS_DIR = "/tmp/bankchurn-metrics"  # noqa: S108 (a tmpfs in read-only containers)


def prepare_metrics_dir() -> None:
    workers = int(os.environ.get("WEB_CONCURRENCY") or "1")
    if MULTIPROCESS_ENV not in os.environ and workers > 1:
        os.environ[MULTIPROCESS_ENV] = DEFAULT_MULTIPROCESS_DIR
    folder = os.environ.get(MULTIPROCESS_ENV)
    if not folder:
        return
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()
    except OSError as error:
        sys.exit(
            f"serve.py: {MULTIPROCESS_ENV}={folder} must be a writable folder ({error}); "
            "with a read-only root filesystem mount a tmpfs there (docker run --tmpfs /tmp)"
        )


if __name__ == "__main__":
    prepare_metrics_dir()
    os.execv(sys.executable, [sys.executable, "-m", "uvicorn", *sys.argv[1:]])  # noqa: S606
