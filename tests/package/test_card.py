"""The saved model: its card describes it, and it reloads to the training scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bankchurn.card import render_summary, save_model
from bankchurn.config import TrainConfig
from bankchurn.data import Dataset
from bankchurn.plots import PLOT_FILES, PLOT_TITLES
from bankchurn.predictor import load_predictor
from bankchurn.train import TrainResult


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
    assert summary == render_summary(
        card, [(PLOT_TITLES[n], f"plots/{f}") for n, f in PLOT_FILES.items()]
    )
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
