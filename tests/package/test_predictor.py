"""The predictor: the feature contract and warm-up, then records in, probabilities out."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bankchurn.artifacts import CARD_FILE, ModelLoadError
from bankchurn.cli import main
from bankchurn.predictor import (
    check_feature_contract,
    load_checked_predictor,
    load_predictor,
    predict_records,
)
from bankchurn.schema import EXAMPLE_CUSTOMER


def test_predictions_are_probabilities_in_input_order(committed_model_dir: Path) -> None:
    predictor = load_predictor(committed_model_dir)
    older = {**EXAMPLE_CUSTOMER, "age": 55, "is_active_member": 0}
    both = predict_records(predictor, [EXAMPLE_CUSTOMER, older])
    alone = predict_records(predictor, [older])
    assert both.shape == (2,)
    assert np.all((both > 0) & (both < 1))
    assert both[1] == alone[0]


def _model_with_card(source: Path, target: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    shutil.copytree(source, target)
    card = json.loads((target / CARD_FILE).read_text())
    edit(card)
    (target / CARD_FILE).write_text(json.dumps(card))
    return target


def _reorder_geography(card: dict[str, Any]) -> None:
    geography = next(f for f in card["schema"]["features"] if f["name"] == "geography")
    geography["categories"] = list(reversed(geography["categories"]))


def test_the_checked_predictor_scores_as_the_plain_one(committed_model_dir: Path) -> None:
    checked = load_checked_predictor(committed_model_dir)
    plain = load_predictor(committed_model_dir)

    assert np.array_equal(
        predict_records(checked, [EXAMPLE_CUSTOMER]), predict_records(plain, [EXAMPLE_CUSTOMER])
    )


def test_a_model_trained_on_another_category_order_is_refused(
    committed_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = _model_with_card(committed_model_dir, tmp_path / "model", _reorder_geography)

    with pytest.raises(ModelLoadError) as caught:
        load_checked_predictor(model_dir)

    assert caught.value.reason == "schema_mismatch"
    assert "('geography', 'category', ['Spain', 'Germany', 'France'])" in str(caught.value)
    assert "retrain the model with this release" in str(caught.value)


def test_a_card_without_a_feature_schema_is_refused(
    committed_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = _model_with_card(
        committed_model_dir, tmp_path / "model", lambda card: card.pop("schema")
    )

    with pytest.raises(ModelLoadError) as caught:
        check_feature_contract(json.loads((model_dir / CARD_FILE).read_text()))

    assert caught.value.reason == "card_invalid"
    assert str(caught.value) == (
        f"{CARD_FILE} lists no feature schema (schema.features); retrain with this release"
    )


def test_evaluate_refuses_a_model_trained_on_other_features(
    committed_model_dir: Path,
    tmp_path: Path,
    synthetic_csv: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model_dir = _model_with_card(committed_model_dir, tmp_path / "model", _reorder_geography)

    code = main(["evaluate", "--model", str(model_dir), "--data", str(synthetic_csv)])

    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error: the model was trained on features" in captured.err
