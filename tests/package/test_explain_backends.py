"""The ONNX backend explains like scikit-learn: the same code, contributions within 1e-5.

Both run the same 1,024-row batches through ``bankchurn.explain``; the ONNX graph's
float32 output (its probabilities round to ~1e-7) is the only difference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bankchurn.explain import baseline_shapley, reference_row
from bankchurn.predictor import load_predictor
from bankchurn.schema import FEATURES, CategoricalFeature

TOLERANCE = 1e-5


def spread_of_customers(count: int, seed: int) -> np.ndarray:
    """Valid customers drawn over the schema's whole ranges (money in cents)."""
    rng = np.random.default_rng(seed)
    columns = []
    for feature in FEATURES:
        if isinstance(feature, CategoricalFeature):
            columns.append(rng.integers(0, len(feature.categories), count).astype(float))
        elif feature.integer:
            columns.append(rng.integers(feature.minimum, feature.maximum + 1, count).astype(float))
        else:
            # Half of them in the range customers usually have, where the trees split.
            high = np.where(rng.random(count) < 0.5, 250_000, feature.maximum)
            columns.append(np.round(rng.random(count) * high, 2))
    return np.column_stack(columns)


def test_onnx_and_sklearn_give_the_same_contributions_for_many_customers(
    committed_model_dir: Path,
) -> None:
    sklearn = load_predictor(committed_model_dir, backend="sklearn")
    onnx = load_predictor(committed_model_dir, backend="onnx")
    reference = reference_row(sklearn.card["explanation"]["reference"])
    customers = spread_of_customers(300, seed=14)

    from_sklearn = baseline_shapley(sklearn.predict_proba, customers, reference)
    from_onnx = baseline_shapley(onnx.predict_proba, customers, reference)

    gap = np.abs(from_onnx.contributions - from_sklearn.contributions).max()
    assert gap <= TOLERANCE, gap
    assert abs(from_onnx.reference_probability - from_sklearn.reference_probability) <= 1e-6
    # Not trivially equal: the customers really have reasons.
    assert np.abs(from_sklearn.contributions).max(axis=1).min() > 0.001
