"""bankchurn beside itself: the variants that put a price on one feature, in the same run.

- ``bankchurn-onnx-nodrift`` (issue #13): the ONNX contestant serving a copy of models/
  whose card lacks the drift reference, which is exactly a model trained before feature
  drift monitoring: the service then counts no inputs and exports no drift metrics (there
  is no setting to turn the counters off, and none is added for the benchmark). The
  difference to bankchurn-onnx is the drift counters' cost.
- ``bankchurn-onnx-b7c1c21`` (issue #15): bankchurn-onnx as it was at the commit the
  issue measured as "today" (``BEFORE_ISSUE_15``): that commit's ``app`` and ``bankchurn``
  packages (``git archive``), this venv and the same models/, so the difference to
  bankchurn-onnx is the code alone.
- ``bankchurn-<backend>-explain`` (issue #14): single-row ``POST /predict?explain=true``
  with README's customer on each backend; the same worker then serves plain single rows,
  whose throughput beside bankchurn-<backend>'s shows whether explaining left a cost behind.

Each proves what it stands for before it is timed (benchmarks.serving.checks).
"""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

from benchmarks.errors import BenchError
from benchmarks.serving.adapters import bankchurn_explain_payload
from benchmarks.serving.checks import drift_counters, explanations
from benchmarks.serving.contestant import Contestant
from tooling.paths import MODEL_DIR, REPO_ROOT


def copy_without_drift_reference(workdir: Path, _: int) -> None:
    """models/ into ``workdir``/model, its card without ``drift_reference``. The card
    vouches for the artifacts (sha256), not for itself, so the copy still verifies."""
    model = workdir / "model"
    shutil.copytree(MODEL_DIR, model)
    card = json.loads((model / "model_card.json").read_text())
    del card["drift_reference"]
    (model / "model_card.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")


def without_drift(onnx: Contestant) -> Contestant:
    return dataclasses.replace(
        onnx,
        name=f"{onnx.name}-nodrift",
        title=f"{onnx.title}, model without a drift reference",
        prepare=copy_without_drift_reference,
        workdir_env=lambda workdir: {"BANKCHURN_MODEL_DIR": str(workdir / "model")},
        verify=drift_counters(exported=False),
        setup_note="as bankchurn-onnx, serving a copy of models/ whose card has no "
        "drift_reference (a model trained before drift monitoring): no drift counters; "
        "checked on /metrics and /model",
    )


def explaining(plain: Contestant) -> Contestant:
    return dataclasses.replace(
        plain,
        name=f"{plain.name}-explain",
        title=f"{plain.title}, ?explain=true",
        kinds=("explain", "single"),
        kind_payloads={"explain": bankchurn_explain_payload},
        verify=explanations,
        setup_note=f"as {plain.name}; timed on `POST /predict?explain=true` (3 reasons) with "
        "README's customer, then on plain single rows; before that, a sample's explanations "
        "checked (all 10 contributions add up to p - p_ref within 1e-6, p = the pipeline's)",
    )


def extract_commit(commit: str, into: Path) -> None:
    """The ``app`` and ``src`` folders of ``commit`` into ``into``, from this clone's history."""
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit, "app", "src"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise BenchError(
            f"git archive {commit[:12]} failed ({archive.stderr.decode().strip()}): the "
            "benchmark measures that commit's code, so it needs this clone's history (a "
            "shallow clone lacks it: `git fetch --unshallow`)"
        )
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


def at_commit(onnx: Contestant, commit: str) -> Contestant:
    """``onnx`` serving the code of ``commit``: the same venv, model and settings."""

    def command(port: int, workdir: Path) -> list[str]:
        python, *rest = onnx.command(port, workdir)
        # -P: no working folder on sys.path, so `app` is the old commit's (--app-dir) and
        # `bankchurn` too (PYTHONPATH, ahead of the venv's editable install of this one).
        return [python, "-P", *rest, "--app-dir", str(workdir / "tree")]

    return dataclasses.replace(
        onnx,
        name=f"{onnx.name}-{commit[:7]}",
        title=f"{onnx.title}, the code of {commit[:7]}",
        command=command,
        prepare=lambda workdir, _: extract_commit(commit, workdir / "tree"),
        workdir_env=lambda workdir: {"PYTHONPATH": str(workdir / "tree" / "src")},
        # Served as it was: its /model predates the drift reference this checks for.
        verify=None,
        setup_note=f"as bankchurn-onnx, running the `app` and `src` of {commit[:7]} (issue "
        f"#15's \"today\", `git archive`) on this venv and model: the code's difference alone",
    )
