"""Turn validated customer records into churn probabilities, whatever the backend.

The predictor owns the feature contract at serving time: a model trained on other
features (names, kinds, category order) is refused, one real prediction warms it up,
then records in, the schema's matrix built once, probabilities out. The API, the CLI
and the image tests load models through ``load_checked_predictor`` alike (the API
through its parts, around its own card checks). It imports neither pandas nor MLflow,
so the API's process stays small and starts fast; the ONNX backend imports neither
scikit-learn, scipy nor joblib either (onnxruntime is imported only when it is chosen).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from bankchurn.artifacts import (
    CARD_FILE,
    ONNX_FILE,
    ModelLoadError,
    load_pipeline,
    read_card,
    read_verified,
)
from bankchurn.schema import EXAMPLE_CUSTOMER, FEATURES, Matrix, as_document, encode_records

Backend = Literal["sklearn", "onnx"]
Probabilities = npt.NDArray[np.float64]

# The parity check at training time vouches for the onnxruntime release that ran it;
# another major.minor may compute tree ensembles differently, so it is refused.
ONNX_VERSION_POLICY: dict[str, str] = {"onnxruntime": "minor"}


class Predictor(Protocol):
    """What the API needs from a loaded model."""

    card: dict[str, Any]

    def predict_proba(self, matrix: Matrix) -> Probabilities:
        """Churn probability for each row of the schema's input matrix."""
        ...


class SklearnPredictor:
    """The fitted scikit-learn pipeline, unpickled only after verification."""

    def __init__(self, pipeline: Any, card: dict[str, Any]) -> None:
        self.pipeline = pipeline
        self.card = card

    def predict_proba(self, matrix: Matrix) -> Probabilities:
        probabilities: Probabilities = self.pipeline.predict_proba(matrix)[:, 1]
        return probabilities


class OnnxPredictor:
    """The ONNX twin of the pipeline in onnxruntime, loaded only after verification."""

    def __init__(self, session: Any, card: dict[str, Any]) -> None:
        self.session = session
        self.card = card
        self._input = str(card["onnx"]["input"]["name"])
        self._output = str(card["onnx"]["output"])

    def predict_proba(self, matrix: Matrix) -> Probabilities:
        (scores,) = self.session.run([self._output], {self._input: matrix})
        return np.asarray(scores[:, 1], dtype=np.float64)


def load_onnx_predictor(model_dir: Path, threads: int = 1) -> OnnxPredictor:
    """Verify ``model.onnx`` against the card, then open it in onnxruntime.

    One prediction at a time per worker, so the session runs sequentially with
    ``threads`` intra-op threads and no inter-op pool.
    """
    card = read_card(model_dir)
    section = card.get("onnx")
    if not isinstance(section, dict) or section.get("file") != ONNX_FILE:
        why = section.get("reason", "") if isinstance(section, dict) else ""
        raise ModelLoadError(
            "onnx_unavailable",
            f"the model in {model_dir} has no ONNX export ({why or 'the card lists none'}); "
            "serve it with BANKCHURN_BACKEND=sklearn or retrain it with the ONNX exporter",
        )
    content = read_verified(model_dir, card, ONNX_FILE)
    try:
        import onnxruntime
    except ImportError:
        raise ModelLoadError(
            "onnx_unavailable",
            "onnxruntime is not installed; install requirements-onnx.txt or serve with "
            "BANKCHURN_BACKEND=sklearn",
        ) from None
    _check_onnxruntime(section, onnxruntime.__version__)
    if section["input"].get("columns") != len(FEATURES):
        raise ModelLoadError(
            "schema_mismatch",
            f"{ONNX_FILE} takes {section['input'].get('columns')} columns, this service "
            f"sends {len(FEATURES)}; retrain the model with this release",
        )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    session = onnxruntime.InferenceSession(
        content, sess_options=options, providers=["CPUExecutionProvider"]
    )
    return OnnxPredictor(session, card)


def _check_onnxruntime(section: dict[str, Any], running: str) -> None:
    checked = str(section.get("onnxruntime", "?"))
    if checked.split(".")[:2] != running.split(".")[:2]:
        raise ModelLoadError(
            "version_mismatch",
            f"{ONNX_FILE}'s parity was checked with onnxruntime {checked}, this environment "
            f"has {running} (policy: {ONNX_VERSION_POLICY['onnxruntime']} match). Install the "
            "locked requirements (requirements-onnx.txt) or retrain in this environment.",
        )


def load_predictor(model_dir: Path, backend: Backend = "sklearn", threads: int = 1) -> Predictor:
    """Load and verify the model in ``model_dir``; raise ModelLoadError if it is unusable.

    ``threads`` caps OpenMP: HistGradientBoosting predicts with every core by default,
    and on a small machine a single-row prediction then fights the web server for CPU
    (measured here: 63 ms unpinned against 5.7 ms with one thread). The cap is set after
    unpickling, because only then is scikit-learn's OpenMP runtime loaded, and it holds
    for the calling thread: call this on the thread that will predict. The ONNX backend
    gives its session ``threads`` intra-op threads instead.
    """
    if backend == "onnx":
        return load_onnx_predictor(model_dir, threads)
    from threadpoolctl import threadpool_limits

    pipeline, card = load_pipeline(model_dir)
    threadpool_limits(limits=threads, user_api="openmp")
    return SklearnPredictor(pipeline, card)


def check_feature_contract(card: Mapping[str, Any]) -> None:
    """Refuse a model whose features (names, kinds, category order) differ from ours."""

    def contract(features: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        return [(f.get("name"), f.get("type"), f.get("categories")) for f in features]

    schema = card.get("schema")
    features = schema.get("features") if isinstance(schema, Mapping) else None
    if not isinstance(features, list) or not all(isinstance(f, Mapping) for f in features):
        raise ModelLoadError(
            "card_invalid",
            f"{CARD_FILE} lists no feature schema (schema.features); retrain with this release",
        )
    trained = contract(features)
    served = contract(as_document())
    if trained != served:
        raise ModelLoadError(
            "schema_mismatch",
            f"the model was trained on features {trained}, but this service sends {served} "
            f"(bankchurn.schema, {len(FEATURES)} features); retrain the model with this release",
        )


def warm_up(predictor: Predictor) -> None:
    """One real prediction, so the first customer does not pay for lazy initialisation."""
    try:
        probabilities = predictor.predict_proba(encode_records([EXAMPLE_CUSTOMER]))
    except ValueError as error:
        raise ModelLoadError("warmup_failed", f"the warm-up prediction failed: {error}") from None
    if probabilities.shape != (1,) or not 0.0 <= float(probabilities[0]) <= 1.0:
        raise ModelLoadError(
            "warmup_failed",
            f"the warm-up prediction returned {probabilities!r}; expected one probability "
            "in [0, 1]",
        )


def load_checked_predictor(
    model_dir: Path, backend: Backend = "sklearn", threads: int = 1
) -> Predictor:
    """``load_predictor``, then the feature contract and a warm-up prediction: a model that
    passes can score this service's customers."""
    predictor = load_predictor(model_dir, backend=backend, threads=threads)
    check_feature_contract(predictor.card)
    warm_up(predictor)
    return predictor


def predict_records(predictor: Predictor, records: Sequence[Mapping[str, Any]]) -> Probabilities:
    """Probabilities for records keyed by the schema's snake_case feature names."""
    return predictor.predict_proba(encode_records(records))
