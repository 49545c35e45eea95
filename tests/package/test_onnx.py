"""The ONNX export: written only when it predicts like scikit-learn, loaded only once verified."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankchurn.artifacts import (
    CARD_FILE,
    MODEL_FILE,
    ONNX_FILE,
    ModelLoadError,
    read_card,
    sha256_of,
)
from bankchurn.card import save_model
from bankchurn.config import TrainConfig
from bankchurn.data import Dataset, frame_to_matrix
from bankchurn.onnx_export import PARITY_TOLERANCE, export_onnx
from bankchurn.predictor import OnnxPredictor, load_predictor
from bankchurn.synth import synthesize
from bankchurn.train import TrainResult
from tooling.paths import REPO_ROOT


def unseen_rows(rows: int, seed: int) -> np.ndarray:
    """Customers from another seed than any training or test data."""
    return frame_to_matrix(pd.DataFrame(synthesize(rows, seed)))


def load_error(model_dir: Path) -> ModelLoadError:
    with pytest.raises(ModelLoadError) as caught:
        load_predictor(model_dir, backend="onnx")
    return caught.value


def test_committed_model_has_an_onnx_export_that_passed_parity(committed_model_dir: Path) -> None:
    card = read_card(committed_model_dir)
    onnx = card["onnx"]
    assert onnx["file"] == ONNX_FILE
    assert onnx["parity"]["passed"] is True
    assert onnx["parity"]["decisions_identical"] is True
    assert onnx["parity"]["tolerance"] == PARITY_TOLERANCE
    assert onnx["parity"]["rows"] == card["metrics"]["holdout"]["rows"]
    assert onnx["parity"]["max_abs_diff"] <= PARITY_TOLERANCE
    entry = card["artifacts"][ONNX_FILE]
    assert sha256_of(committed_model_dir / ONNX_FILE) == entry["sha256"]
    assert (committed_model_dir / ONNX_FILE).stat().st_size == entry["bytes"]


def test_onnx_predicts_like_sklearn_on_unseen_customers(committed_model_dir: Path) -> None:
    sklearn = load_predictor(committed_model_dir, backend="sklearn")
    onnx = load_predictor(committed_model_dir, backend="onnx")
    assert isinstance(onnx, OnnxPredictor)
    matrix = unseen_rows(2_000, seed=20_250)
    expected, actual = sklearn.predict_proba(matrix), onnx.predict_proba(matrix)
    assert actual.dtype == np.float64
    assert actual.shape == (2_000,)
    assert np.max(np.abs(actual - expected)) <= PARITY_TOLERANCE
    threshold = onnx.card["threshold"]["value"]
    assert np.array_equal(actual >= threshold, expected >= threshold)


def test_onnx_agrees_with_sklearn_right_at_the_trees_split_points(
    committed_model_dir: Path,
) -> None:
    """Every numeric split, with values one cent either side: float32 inputs or
    thresholds send some of these rows down the other branch (max |diff| 0.04 measured)."""
    sklearn = load_predictor(committed_model_dir, backend="sklearn")
    onnx = load_predictor(committed_model_dir, backend="onnx")
    estimator = sklearn.pipeline.named_steps["model"]  # type: ignore[attr-defined]
    names = list(sklearn.pipeline.named_steps["encode"].get_feature_names_out())  # type: ignore[attr-defined]
    base = unseen_rows(200, seed=5)
    rows = []
    for (predictor,) in estimator._predictors:
        for node in predictor.nodes[~predictor.nodes["is_leaf"].astype(bool)]:
            name = names[int(node["feature_idx"])]
            if not name.startswith("remainder__x"):
                continue
            column = int(name.removeprefix("remainder__x"))
            cents = round(float(node["num_threshold"]), 2)
            for value in (cents - 0.01, cents, cents + 0.01):
                row = base[len(rows) % len(base)].copy()
                row[column] = value
                rows.append(row)
    matrix = np.array(rows)
    expected, actual = sklearn.predict_proba(matrix), onnx.predict_proba(matrix)
    assert np.max(np.abs(actual - expected)) <= PARITY_TOLERANCE


def test_a_tampered_onnx_file_is_refused_before_onnxruntime_reads_it(
    committed_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = Path(shutil.copytree(committed_model_dir, tmp_path / "model"))
    (model_dir / ONNX_FILE).write_bytes(b"not an onnx graph")
    code = f"""
        import sys
        from pathlib import Path
        from bankchurn.artifacts import ModelLoadError
        from bankchurn.predictor import load_predictor
        try:
            load_predictor(Path({str(model_dir)!r}), backend="onnx")
        except ModelLoadError as error:
            print(error.reason, "onnxruntime" in sys.modules)
    """
    finished = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert finished.stdout.split() == ["checksum_mismatch", "False"]
    assert "was modified or replaced after training" in str(load_error(model_dir))


def test_a_missing_onnx_file_is_a_clear_load_error(
    committed_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = Path(shutil.copytree(committed_model_dir, tmp_path / "model"))
    (model_dir / ONNX_FILE).unlink()
    error = load_error(model_dir)
    assert error.reason == "artifact_missing"
    assert f"{model_dir / ONNX_FILE} is missing" in str(error)


def test_a_model_without_onnx_export_says_so(committed_model_dir: Path, tmp_path: Path) -> None:
    model_dir = Path(shutil.copytree(committed_model_dir, tmp_path / "model"))
    card = json.loads((model_dir / CARD_FILE).read_text())
    del card["onnx"]
    (model_dir / CARD_FILE).write_text(json.dumps(card))
    error = load_error(model_dir)
    assert error.reason == "onnx_unavailable"
    assert "BANKCHURN_BACKEND=sklearn" in str(error)


def test_an_onnxruntime_other_than_the_parity_checked_one_is_refused(
    committed_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = Path(shutil.copytree(committed_model_dir, tmp_path / "model"))
    card = json.loads((model_dir / CARD_FILE).read_text())
    card["onnx"]["onnxruntime"] = "0.1.0"
    (model_dir / CARD_FILE).write_text(json.dumps(card))
    error = load_error(model_dir)
    assert error.reason == "version_mismatch"
    assert "onnxruntime 0.1.0" in str(error)


def test_export_reports_parity_on_the_check_rows(fast_training: TrainResult) -> None:
    exported = export_onnx(
        fast_training.pipeline, fast_training.holdout_matrix, fast_training.threshold
    )
    assert exported.model is not None
    parity = exported.report["parity"]
    assert parity["rows"] == len(fast_training.holdout_matrix)
    assert parity["passed"] is True
    assert parity["decisions_identical"] is True
    assert 0.0 <= parity["max_abs_diff"] <= PARITY_TOLERANCE
    assert exported.report["opset"] == {"": 18, "ai.onnx.ml": 3}


def test_a_parity_failure_writes_no_onnx_file_and_records_why(
    fast_training: TrainResult,
    synthetic_dataset: Dataset,
    fast_config: TrainConfig,
    tmp_path: Path,
) -> None:
    out = tmp_path / "model"
    out.mkdir()
    (out / ONNX_FILE).write_bytes(b"a previous training's graph")
    # float32 output rounding alone is ~1e-8: a zero tolerance cannot be met.
    card = save_model(fast_training, synthetic_dataset, fast_config, out, onnx_tolerance=0.0)
    assert not (out / ONNX_FILE).exists()
    assert card["onnx"]["file"] is None
    assert card["onnx"]["parity"]["passed"] is False
    assert card["onnx"]["parity"]["tolerance"] == 0.0
    assert "ONNX predictions differ from scikit-learn's" in card["onnx"]["reason"]
    assert set(card["artifacts"]) == {MODEL_FILE}
    assert "ONNX: not exported" in (out / "MODEL_CARD.md").read_text()
    error = load_error(out)
    assert error.reason == "onnx_unavailable"
    assert "tolerance 0" in str(error)
    load_predictor(out, backend="sklearn")  # the scikit-learn model is still served


def test_the_onnx_path_imports_no_sklearn_scipy_pandas_or_joblib(
    committed_model_dir: Path,
) -> None:
    code = f"""
        import json, sys
        from pathlib import Path
        from bankchurn.predictor import load_predictor, predict_records
        from bankchurn.schema import EXAMPLE_CUSTOMER
        predictor = load_predictor(Path({str(committed_model_dir)!r}), backend="onnx")
        (probability,) = predict_records(predictor, [EXAMPLE_CUSTOMER])
        heavy = ["sklearn", "scipy", "pandas", "joblib", "threadpoolctl"]
        loaded = [name for name in heavy if name in sys.modules]
        print(json.dumps({{"p": float(probability), "loaded": loaded}}))
    """
    finished = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(finished.stdout.splitlines()[-1])
    assert result["loaded"] == []
    assert 0.0 < result["p"] < 1.0
