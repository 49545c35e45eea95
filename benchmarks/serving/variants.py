"""bankchurn beside itself: the variants that put a price on one feature, in the same run.

- ``bankchurn-onnx-nodrift`` (issue #13): the ONNX contestant serving a copy of models/
  whose card lacks the drift reference, which is exactly a model trained before feature
  drift monitoring: the service then counts no inputs and exports no drift metrics (there
  is no setting to turn the counters off, and none is added for the benchmark). The
  difference to bankchurn-onnx is the drift counters' cost.
- ``bankchurn-<backend>-explain`` (issue #14): single-row ``POST /predict?explain=true``
  with README's customer on each backend; the same worker then serves plain single rows,
  whose throughput beside bankchurn-<backend>'s shows whether explaining left a cost behind.

Each proves what it stands for before it is timed (benchmarks.serving.checks).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from benchmarks.serving.adapters import bankchurn_explain_payload
from benchmarks.serving.checks import drift_counters, explanations
from benchmarks.serving.contestant import Contestant
from tooling.paths import MODEL_DIR


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
