"""Behavioural checks of the committed model: what the data says, the model must say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from bankchurn.artifacts import sha256_of
from bankchurn.data import frame_to_matrix, load_csv
from bankchurn.predictor import Predictor, load_predictor, predict_records
from bankchurn.schema import EXAMPLE_CUSTOMER
from bankchurn.synth import write_csv


@pytest.fixture(scope="module")
def predictor(committed_model_dir: Path) -> Predictor:
    return load_predictor(committed_model_dir)


def score(predictor: Predictor, **changes: Any) -> float:
    base = {**EXAMPLE_CUSTOMER, "age": 46, "balance": 95_000.0}
    return float(predict_records(predictor, [{**base, **changes}])[0])


def test_the_committed_model_was_trained_on_the_default_synthetic_data(
    predictor: Predictor, tmp_path: Path
) -> None:
    path = tmp_path / "synthetic.csv"
    write_csv(path, rows=10_000, seed=42)
    assert predictor.card["training_data"]["sha256"] == sha256_of(path)
    assert predictor.card["config"]["name"] == "hgb-default"


def test_minimum_functionality_on_unseen_synthetic_customers(
    predictor: Predictor, tmp_path: Path
) -> None:
    path = tmp_path / "unseen.csv"
    write_csv(path, rows=4_000, seed=2024)
    dataset = load_csv(path)
    scores = predictor.predict_proba(frame_to_matrix(dataset.features))
    assert roc_auc_score(dataset.target, scores) > 0.85


def test_inactive_members_are_more_likely_to_churn(predictor: Predictor) -> None:
    assert score(predictor, is_active_member=0) > score(predictor, is_active_member=1)


def test_three_or_four_products_signal_churn_more_than_two(predictor: Predictor) -> None:
    two = score(predictor, num_of_products=2)
    assert score(predictor, num_of_products=3) > two
    assert score(predictor, num_of_products=4) > two


def test_german_customers_churn_more_than_french(predictor: Predictor) -> None:
    assert score(predictor, geography="Germany") > score(predictor, geography="France")


def test_middle_aged_customers_churn_more_than_young_ones(predictor: Predictor) -> None:
    assert score(predictor, age=52) > score(predictor, age=28)


def test_the_score_is_deterministic(predictor: Predictor) -> None:
    records = [EXAMPLE_CUSTOMER] * 50
    first = predict_records(predictor, records)
    assert np.all(first == first[0])
    assert np.array_equal(first, predict_records(predictor, records))
