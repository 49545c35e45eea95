"""Follow the champion: publish whatever ``models:/bankchurn@champion`` names, every interval.

The Kubernetes sidecar of components/mlflow-model runs this beside the API. Every
``FOLLOW_SECONDS`` (default 60) it runs ``job.py --export-only`` in a child process,
which downloads the current champion, verifies it and, when the version is new,
publishes it as ``EXPORT_DIR/versions/<version>`` and repoints ``EXPORT_DIR/champion``
in one atomic rename. The API, polling that link (BANKCHURN_MODEL_POLL_SECONDS),
then verifies the new model itself and swaps it in without a restart.

A child process per check: the MLflow client costs ~250 MiB while it runs and nothing
between checks. A failed check (MLflow down, a bad download) is logged and retried at
the next interval; what is published stays served. Old versions are pruned so the
pod's volume does not fill up: the champion's and the newest other one are kept
(the API may still be loading the previous champion when the link moves).
Standard library only; exits 0 on SIGTERM.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

JOB = Path(__file__).with_name("job.py")
CHAMPION_LINK = "champion"
KEEP_OTHER_VERSIONS = 1


def env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def export_once() -> int:
    """One ``job.py --export-only`` in a child process; its exit code."""
    command = [sys.executable, str(JOB), "--export-only"]  # fixed: no outside input
    return subprocess.run(command, check=False).returncode  # noqa: S603


def prune(export_dir: Path, keep_others: int = KEEP_OTHER_VERSIONS) -> list[Path]:
    """Delete published versions other than the champion's and the ``keep_others`` newest."""
    versions = export_dir / "versions"
    if not versions.is_dir():
        return []
    link = export_dir / CHAMPION_LINK
    served = link.resolve() if link.is_symlink() else None
    others = [path for path in versions.iterdir() if path.is_dir() and path.resolve() != served]
    others.sort(key=lambda path: path.stat().st_mtime_ns, reverse=True)
    removed = others[keep_others:]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def follow(export_dir: Path, seconds: float, stop: threading.Event) -> None:
    while not stop.is_set():
        code = export_once()
        if code:
            print(
                f"follow: export failed (exit {code}); retrying in {seconds:g} s", file=sys.stderr
            )
        for path in prune(export_dir):
            print(f"follow: removed the old version {path.name}")
        stop.wait(seconds)


def main() -> int:
    try:
        seconds = float(env("FOLLOW_SECONDS", "60"))
    except ValueError:
        seconds = -1.0
    if not 1 <= seconds <= 86_400:
        print("follow: FOLLOW_SECONDS must be a number of seconds in [1, 86400]", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    follow(Path(env("EXPORT_DIR", "/models")), seconds, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
