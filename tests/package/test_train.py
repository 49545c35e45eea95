"""Training: reproducible, threshold chosen by the stated policy, honest metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bankchurn.card import render_summary, save_model
from bankchurn.config import ConfigError, ThresholdConfig, TrainConfig, load_config
from bankchurn.data import Dataset
from bankchurn.evaluate import choose_threshold, classification_metrics
from bankchurn.predictor import load_predictor
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


def test_threshold_policy_max_f1_picks_the_best_f1() -> None:
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.9])
    threshold = choose_threshold(y, p, ThresholdConfig(policy="max_f1"))
    assert threshold == 0.35
    best = classification_metrics(y, p, threshold)["f1"]
    for other in p:
        assert classification_metrics(y, p, float(other))["f1"] <= best


def test_threshold_policy_min_recall_is_the_strictest_that_keeps_recall() -> None:
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.9])
    policy = ThresholdConfig(policy="min_recall", min_recall=0.75)
    threshold = choose_threshold(y, p, policy)
    assert threshold == 0.6
    assert classification_metrics(y, p, threshold)["recall"] == 0.75


def test_threshold_policy_fixed_uses_the_value() -> None:
    y = np.array([0, 1])
    p = np.array([0.2, 0.8])
    assert choose_threshold(y, p, ThresholdConfig(policy="fixed", value=0.3)) == 0.3


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


def test_the_default_config_file_is_valid() -> None:
    config = load_config(Path("configs/train.yaml"))
    assert config.estimator.type == "hist_gradient_boosting"
    assert config.split.cv_folds == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("estimator: {type: xgboost}", "estimator.type: Input should be"),
        ("split: {test_size: 0.9}", "split.test_size: Input should be less than 0.5"),
        ("seeed: 3", "seeed: Extra inputs are not permitted"),
        ("threshold: {policy: min_recall}", "needs threshold.min_recall"),
        ("threshold: {policy: fixed}", "needs threshold.value"),
        ("name: [unclosed", "is not valid YAML"),
    ],
)
def test_a_bad_config_names_the_file_and_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(str(path))
    assert expected in str(caught.value)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_saved_model_card_describes_the_model(
    fast_model_dir: Path, fast_training: TrainResult, synthetic_dataset: Dataset
) -> None:
    predictor = load_predictor(fast_model_dir)
    card = predictor.card
    assert card["model_name"] == "bankchurn"
    assert card["threshold"]["value"] == fast_training.threshold
    assert card["threshold"]["policy"] == "max_f1"
    assert card["training_data"] == {
        "file": "synthetic.csv",
        "sha256": synthetic_dataset.sha256,
        "rows": 3000,
        "positive_rate": round(synthetic_dataset.positive_rate, 6),
        "dropped_rows": 0,
    }
    assert [f["column"] for f in card["schema"]["features"]][:3] == [
        "CreditScore",
        "Geography",
        "Gender",
    ]
    assert set(card["versions"]) == {"python", "scikit-learn", "numpy", "joblib"}
    assert "/" not in card["training_data"]["file"]
    summary = (fast_model_dir / "MODEL_CARD.md").read_text()
    assert summary == render_summary(card)
    assert card["model_version"] in summary


def test_reloaded_model_reproduces_the_training_scores(
    fast_model_dir: Path, fast_training: TrainResult
) -> None:
    predictor = load_predictor(fast_model_dir)
    scores = predictor.predict_proba(fast_training.holdout_matrix)
    assert np.array_equal(scores, fast_training.holdout_scores)


def test_saving_twice_into_one_folder_replaces_the_model(
    tmp_path: Path,
    fast_training: TrainResult,
    synthetic_dataset: Dataset,
    fast_config: TrainConfig,
) -> None:
    first = save_model(fast_training, synthetic_dataset, fast_config, tmp_path)
    second = save_model(fast_training, synthetic_dataset, fast_config, tmp_path)
    assert first["artifacts"] == second["artifacts"]
    load_predictor(tmp_path)
