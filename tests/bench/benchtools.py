"""Running the serving benchmark for real, as `make bench` does, with runs of a second."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tooling.paths import REPO_ROOT

# One second per run, one run, no Docker cold start: enough to prove the harness, not to time.
SHORT_RUNS = (
    "--duration", "1", "--repeats", "1", "--warmup", "1", "--rate-duration", "1",
    "--cold-runs", "1", "--skip-image",
)  # fmt: skip


def short_report(out: Path, contestants: tuple[str, ...], *options: str) -> dict[str, Any]:
    """``python -m benchmarks.serving --only <contestants>`` with SHORT_RUNS and ``options``,
    writing ``out``: its JSON report, with the rendered markdown under ``"markdown"``."""
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.serving", "--only", ",".join(contestants),
         *SHORT_RUNS, "--out", str(out), *options],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr + finished.stdout
    document: dict[str, Any] = json.loads(out.with_suffix(".json").read_text())
    document["markdown"] = out.read_text()
    return document
