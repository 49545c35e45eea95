""".ci/run never reports a run that did not finish as passed.

The real script, in its own session, with a stand-in ``apt-get`` first on PATH that
blocks: it is stopped the way a CI timeout stops it (SIGTERM to the whole group) while
its first step runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tooling.paths import REPO_ROOT


def test_a_run_stopped_by_sigterm_is_reported_as_failed(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    marker = tmp_path / "apt-get-started"
    (fake / "apt-get").write_text(f"#!/bin/sh\ntouch {marker}\nexec sleep 60\n")
    (fake / "apt-get").chmod(0o755)
    run = subprocess.Popen(
        ["bash", str(REPO_ROOT / ".ci" / "run")],
        env={**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert run.poll() is None, "apt-get never ran"
            assert time.monotonic() < deadline, "apt-get never ran"
            time.sleep(0.05)
        os.killpg(run.pid, signal.SIGTERM)
        output, _ = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert run.returncode == 143
    assert '.ci/run FAILED in step "system packages' in output
    assert "passed" not in output.split("==> summary")[-1]
