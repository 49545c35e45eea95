"""The predictor: validated records in, probabilities out, in input order."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bankchurn.predictor import load_predictor, predict_records
from bankchurn.schema import EXAMPLE_CUSTOMER


def test_predictions_are_probabilities_in_input_order(committed_model_dir: Path) -> None:
    predictor = load_predictor(committed_model_dir)
    older = {**EXAMPLE_CUSTOMER, "age": 55, "is_active_member": 0}
    both = predict_records(predictor, [EXAMPLE_CUSTOMER, older])
    alone = predict_records(predictor, [older])
    assert both.shape == (2,)
    assert np.all((both > 0) & (both < 1))
    assert both[1] == alone[0]
