"""Training: reproducible, threshold chosen by the stated policy, honest metrics."""

from __future__ import annotations

import numpy as np
import pytest

from bankchurn.config import TrainConfig
from bankchurn.data import Dataset
from bankchurn.train import TrainResult, build_pipeline, train


def test_same_data_config_and_seed_give_the_same_predictions(
    synthetic_dataset: Dataset, fast_training: TrainResult, fast_config: TrainConfig
) -> None:
    again = train(synthetic_dataset, fast_config)
    assert np.array_equal(again.holdout_scores, fast_training.holdout_scores)
    assert again.threshold == fast_training.threshold
    assert again.metrics == fast_training.metrics


def test_metrics_cover_holdout_and_cross_validation(fast_training: TrainResult) -> None:
    holdout = fast_training.metrics["holdout"]
    cv = fast_training.metrics["cross_validation"]
    assert holdout["rows"] == 750  # 25 % of 3,000
    assert set(holdout["confusion_matrix"]) == {"tn", "fp", "fn", "tp"}
    assert sum(holdout["confusion_matrix"].values()) == 750
    assert cv["folds"] == 3
    for name in ("roc_auc", "pr_auc", "brier"):
        assert 0.0 < cv[name]["mean"] < 1.0
        assert cv[name]["std"] >= 0.0
    # Synthetic churn is learnable: a working pipeline ranks far better than chance.
    assert holdout["roc_auc"] > 0.75


def test_threshold_is_chosen_on_out_of_fold_scores_not_the_holdout(
    fast_training: TrainResult,
) -> None:
    oof = fast_training.metrics["cross_validation"]["out_of_fold_at_threshold"]
    assert oof["threshold"] == fast_training.threshold
    assert oof["rows"] == 2250


@pytest.mark.parametrize("estimator", ["random_forest", "logistic_regression"])
def test_other_estimators_train_through_the_same_pipeline(
    synthetic_dataset: Dataset, fast_config: TrainConfig, estimator: str
) -> None:
    params = {"n_estimators": 30} if estimator == "random_forest" else {"max_iter": 500}
    config = TrainConfig.model_validate(
        {**fast_config.model_dump(), "estimator": {"type": estimator, "params": params}}
    )
    result = train(synthetic_dataset, config)
    assert result.metrics["holdout"]["roc_auc"] > 0.7
    assert build_pipeline(config).steps[-1][0] == "model"
