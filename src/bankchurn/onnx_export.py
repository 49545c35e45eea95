"""Export the fitted pipeline to ONNX, and keep it only if it predicts like the original.

The ONNX graph takes the schema's float64 matrix (categories as their index), exactly
what the scikit-learn pipeline takes, and returns the class probabilities. Before the
graph is accepted, onnxruntime scores the check rows (the holdout) and every
probability must be within ``tolerance`` of scikit-learn's, with the same decision at
the threshold for every row. Otherwise no ONNX file is written and the card says why.

Why float64 input with float64 split thresholds: skl2onnx writes tree thresholds as
float32 attributes (ai.onnx.ml opset 1). Balance and EstimatedSalary are money with
cents, and above 131,072 float32 cannot tell apart neighbouring cent values: on rows
placed one cent either side of the trees' split points, the float32 graph differed from
scikit-learn by up to 0.04 (and flipped a decision in one sample). ``_exact_thresholds``
rewrites the tree ensemble with ai.onnx.ml opset 3's ``*_as_tensor`` float64 attributes
(HistGradientBoosting's own thresholds), which compare exactly as scikit-learn does
(max |diff| ~1e-7, float32 output rounding only).

Training-side only: skl2onnx and onnx are not serving dependencies.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from typing import Any

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import DoubleTensorType
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from bankchurn.artifacts import ONNX_FILE
from bankchurn.errors import BankchurnError
from bankchurn.schema import FEATURES, Matrix

INPUT_NAME = "input"
PROBABILITIES_OUTPUT = "probabilities"
PARITY_TOLERANCE = 1e-5
# Standard ops at 18; the ML domain at 3 for float64 tree thresholds (*_as_tensor).
TARGET_OPSET = {"": 18, "ai.onnx.ml": 3}


class OnnxExportError(BankchurnError):
    """The pipeline could not be turned into an ONNX graph this project can serve."""


# What a converter or runtime that cannot handle an estimator raises (onnxruntime's
# errors derive from Exception directly).
_CONVERSION_ERRORS: tuple[type[Exception], ...] = (
    OnnxExportError,
    NotImplementedError,
    RuntimeError,
    TypeError,
    ValueError,
    onnx.checker.ValidationError,
    ort_errors.Fail,
    ort_errors.InvalidArgument,
    ort_errors.InvalidGraph,
    ort_errors.NotImplemented,
)


@dataclass(frozen=True)
class OnnxExport:
    """The serialized graph (None when it was refused) and the card's ``onnx`` section."""

    model: bytes | None
    report: dict[str, Any]


def export_onnx(
    pipeline: Pipeline,
    check_rows: Matrix,
    threshold: float,
    tolerance: float = PARITY_TOLERANCE,
) -> OnnxExport:
    """Convert ``pipeline`` and check its parity on ``check_rows``; see the module doc."""
    report: dict[str, Any] = {
        "file": None,
        "input": {"name": INPUT_NAME, "dtype": "float64", "columns": len(FEATURES)},
        "output": PROBABILITIES_OUTPUT,
        "opset": dict(TARGET_OPSET),
        "skl2onnx": installed_version("skl2onnx"),
        "onnx": installed_version("onnx"),
        "onnxruntime": installed_version("onnxruntime"),
    }
    try:
        serialized = to_onnx_model(pipeline).SerializeToString()
        actual = onnx_probabilities(serialized, check_rows)
    except _CONVERSION_ERRORS as error:
        # A configured estimator skl2onnx or onnxruntime cannot handle: the sklearn
        # model is still good, there is just no ONNX twin of it.
        report["reason"] = f"conversion failed: {type(error).__name__}: {error}"
        return OnnxExport(None, report)
    expected = pipeline.predict_proba(check_rows)[:, 1]
    parity = parity_report(expected, actual, threshold, tolerance)
    report["parity"] = parity
    if parity["passed"]:
        report["file"] = ONNX_FILE
    else:
        report["reason"] = (
            f"ONNX predictions differ from scikit-learn's on the {parity['rows']} check rows "
            f"(max |diff| {parity['max_abs_diff']:.3g}, tolerance {tolerance:g}, "
            f"{parity['decisions_differing']} decision(s) differing at the threshold)"
        )
        return OnnxExport(None, report)
    return OnnxExport(serialized, report)


def parity_report(expected: Any, actual: Any, threshold: float, tolerance: float) -> dict[str, Any]:
    """How closely two probability vectors agree, and whether that is close enough."""
    max_abs_diff = float(np.max(np.abs(actual - expected))) if len(expected) else 0.0
    differing = int(np.count_nonzero((actual >= threshold) != (expected >= threshold)))
    return {
        "rows": len(expected),
        "max_abs_diff": max_abs_diff,
        "tolerance": tolerance,
        "threshold": threshold,
        "decisions_identical": differing == 0,
        "decisions_differing": differing,
        "passed": max_abs_diff <= tolerance and differing == 0,
    }


def to_onnx_model(pipeline: Pipeline) -> onnx.ModelProto:
    """The pipeline as an ONNX graph: float64 matrix in, ``probabilities`` (n, 2) out."""
    estimator = pipeline.steps[-1][1]
    with warnings.catch_warnings():
        # skl2onnx 1.20 passes booleans where protobuf wants ints (the reason for
        # protobuf<7 in the requirements); under 6.x that is only this warning.
        warnings.filterwarnings("ignore", "Field onnx.AttributeProto.ints", DeprecationWarning)
        model = convert_sklearn(
            pipeline,
            initial_types=[(INPUT_NAME, DoubleTensorType([None, len(FEATURES)]))],
            # Plain (n, 2) arrays rather than a list of {class: probability} maps.
            options={id(estimator): {"zipmap": False}},
            target_opset=TARGET_OPSET,
        )
    # skl2onnx names the graph with a random uuid; a fixed name keeps the file (and its
    # sha256) reproducible: the same pipeline gives the same bytes.
    model.graph.name = "bankchurn"
    if isinstance(estimator, HistGradientBoostingClassifier):
        _exact_thresholds(model, estimator)
    onnx.checker.check_model(model)
    checked: onnx.ModelProto = model
    return checked


def onnx_probabilities(serialized: bytes, matrix: Matrix) -> Any:
    """Churn probabilities from an ONNX graph, as float64."""
    session = onnxruntime.InferenceSession(serialized, providers=["CPUExecutionProvider"])
    (probabilities,) = session.run([PROBABILITIES_OUTPUT], {INPUT_NAME: matrix})
    return np.asarray(probabilities[:, 1], dtype=np.float64)


def _exact_thresholds(model: onnx.ModelProto, estimator: HistGradientBoostingClassifier) -> None:
    """Replace the float32 tree attributes by the estimator's float64 values (in place)."""
    (node,) = [n for n in model.graph.node if n.op_type == "TreeEnsembleClassifier"]
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    thresholds = []
    for tree, node_id, mode, feature, approx in zip(
        attrs["nodes_treeids"],
        attrs["nodes_nodeids"],
        attrs["nodes_modes"],
        attrs["nodes_featureids"],
        attrs["nodes_values"],
        strict=True,
    ):
        if mode == b"LEAF":
            thresholds.append(0.0)
            continue
        (predictor,) = estimator._predictors[tree]
        split = predictor.nodes[node_id]
        exact = float(split["num_threshold"])
        # Guard against a skl2onnx whose node numbering no longer matches scikit-learn's.
        if mode != b"BRANCH_LEQ" or int(split["feature_idx"]) != feature:
            raise OnnxExportError(
                f"tree {tree} node {node_id}: skl2onnx wrote {mode!r} on feature {feature}, "
                f"scikit-learn splits feature {int(split['feature_idx'])} with <=; "
                "this skl2onnx version numbers nodes differently"
            )
        if abs(exact - approx) > 1e-3 * max(1.0, abs(exact)):
            raise OnnxExportError(
                f"tree {tree} node {node_id}: threshold {approx} in the graph, {exact} in "
                "scikit-learn; this skl2onnx version numbers nodes differently"
            )
        thresholds.append(exact)
    as_tensors = {
        "nodes_values": np.array(thresholds, dtype=np.float64),
        "class_weights": np.array(attrs["class_weights"], dtype=np.float64),
        "base_values": np.array(attrs["base_values"], dtype=np.float64),
    }
    kept = [a for a in node.attribute if a.name not in as_tensors]
    del node.attribute[:]
    node.attribute.extend(kept)
    for name, values in as_tensors.items():
        node.attribute.append(
            helper.make_attribute(f"{name}_as_tensor", numpy_helper.from_array(values))
        )
    for opset in model.opset_import:
        if opset.domain == "ai.onnx.ml":
            opset.version = TARGET_OPSET["ai.onnx.ml"]
    # TreeEnsembleClassifier always outputs float32 scores; skl2onnx declared float64.
    for output in model.graph.output:
        if output.name == PROBABILITIES_OUTPUT:
            output.type.tensor_type.elem_type = TensorProto.FLOAT
