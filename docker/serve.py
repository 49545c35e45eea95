"""Container entrypoint: prepare the multiprocess metrics folder, then become uvicorn.

Arguments are uvicorn's (``python serve.py app.fastapi_app:app --host ...``). With several
workers (``WEB_CONCURRENCY``, which uvicorn reads) every worker must write its metrics
to files in ``PROMETHEUS_MULTIPROC_DIR`` so /metrics adds them up (see app/metrics.py),
and that folder must exist and hold no files from an earlier run. Distroless images
have no shell to ``mkdir``/``rm`` in, hence this: it picks a folder under /tmp when
several workers are asked for and none is set, creates and empties it, then runs
uvicorn's command line in this same process, which is PID 1 and so receives SIGTERM
directly. In the process, not by ``exec``: a second interpreter start-up would add to
every cold start (docs/performance.md).

It also gives uvicorn the service's HTTP protocol (header timeout, connection cap, idle
close at shutdown: app/http_protocol.py) and a graceful-shutdown timeout, unless the
arguments choose their own (app/server_options.py). With the app's drain
(BANKCHURN_DRAIN_SECONDS, 5 s) and that timeout (10 s) a stop takes at most ~15.5 s:
inside compose's stop_grace_period (20 s) and Kubernetes' terminationGracePeriodSeconds
(25 s, of which preStop sleeps 5 s).
And the service's log config (app/uvicorn_logging.json), so uvicorn's own start-up lines,
written before the app configures logging, are JSON lines like the rest (app/log.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from uvicorn.main import main as uvicorn_main

from app.server_options import uvicorn_arguments

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
    uvicorn_main(uvicorn_arguments(sys.argv[1:]), prog_name="uvicorn")
