"""The model report of a model already saved: its holdout found again, its plots redrawn.

Training writes the plots itself (bankchurn.card.write_report). A model saved earlier, or
whose plots were deleted, gets the same files from its training CSV: the card's config
and seed give the same stratified split (bankchurn.train.split_holdout), the verified model
scores those rows, and the scores must reproduce the card's holdout metrics before anything
is written, so the plots can never show another holdout than the card's.
"""

from __future__ import annotations

import math
from pathlib import Path

from bankchurn.card import write_report
from bankchurn.config import TrainConfig
from bankchurn.data import load_csv
from bankchurn.errors import BankchurnError
from bankchurn.evaluate import ranking_metrics
from bankchurn.predictor import load_checked_predictor
from bankchurn.train import split_holdout

# Scores of the same pipeline on the same rows are identical; the card stores full floats.
_METRIC_TOLERANCE = 1e-12


class ReportError(BankchurnError):
    """The data given is not the model's training data, or does not reproduce its card."""


def redraw_plots(model_dir: Path, data: Path) -> dict[str, Path]:
    """Rewrite ``model_dir``/plots/*.png and MODEL_CARD.md from the training CSV ``data``."""
    predictor = load_checked_predictor(model_dir)
    card = predictor.card
    dataset = load_csv(data)
    trained_on = card["training_data"]
    if dataset.sha256 != trained_on["sha256"]:
        raise ReportError(
            f"{data} is not the data {model_dir} was trained on: its sha256 is "
            f"{dataset.sha256}, the card's training_data.sha256 is {trained_on['sha256']} "
            f"(file {trained_on['file']}); pass that file (for the committed model: "
            "`make data/synthetic.csv`)"
        )
    config = TrainConfig.model_validate(card["config"])
    _, x_hold, _, y_hold = split_holdout(dataset, config)
    scores = predictor.predict_proba(x_hold)
    recorded = card["metrics"]["holdout"]
    for name, value in ranking_metrics(y_hold, scores).items():
        if not math.isclose(value, recorded[name], rel_tol=0, abs_tol=_METRIC_TOLERANCE):
            raise ReportError(
                f"the holdout of {data} gives {name} {value!r}, the card of {model_dir} says "
                f"{recorded[name]!r}: this model does not reproduce its card; retrain it"
            )
    return write_report(card, y_hold, scores, model_dir)
