"""The model report's plots: each one's numbers are the card's (tested as numbers, against
scikit-learn), training writes them next to the card, `bankchurn report plots` redraws the
same files from the training CSV, and the committed model's plots are what it draws."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

from bankchurn.artifacts import write_card
from bankchurn.card import render_summary
from bankchurn.cli import main
from bankchurn.plots import (
    PLOT_FILES,
    PLOT_TITLES,
    calibration,
    precision_recall,
    roc,
    score_histogram,
)
from bankchurn.report import ReportError, redraw_plots
from bankchurn.synth import write_csv
from bankchurn.train import TrainResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk, after checking the file is a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


# Each curve: the report's function, scikit-learn's (x, y) for the same scores, the card's area.
CURVES = {
    "roc": (roc, lambda y, p: roc_curve(y, p)[:2], "roc_auc"),  # (fpr, tpr)
    # precision_recall_curve returns (precision, recall): the plot's x is recall.
    "precision-recall": (
        precision_recall,
        lambda y, p: precision_recall_curve(y, p)[1::-1],
        "pr_auc",
    ),
}


@pytest.mark.parametrize(("draw", "reference", "metric"), list(CURVES.values()), ids=list(CURVES))
def test_curve_plot_data_is_sklearns_curve_and_the_cards_area(
    fast_training: TrainResult, draw: Any, reference: Any, metric: str
) -> None:
    y, p = fast_training.holdout_target, fast_training.holdout_scores
    curve = draw(y, p)
    x, y_values = reference(y, p)
    assert np.array_equal(curve.x, x)
    assert np.array_equal(curve.y, y_values)
    assert curve.area == fast_training.metrics["holdout"][metric]


def test_roc_area_is_the_area_under_the_drawn_points(fast_training: TrainResult) -> None:
    curve = roc(fast_training.holdout_target, fast_training.holdout_scores)
    assert np.trapezoid(curve.y, curve.x) == pytest.approx(curve.area, abs=1e-12)


def test_calibration_plot_data_is_sklearns_reliability_curve(fast_training: TrainResult) -> None:
    y, p = fast_training.holdout_target, fast_training.holdout_scores
    reliability = calibration(y, p)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    assert np.array_equal(reliability.observed, observed)
    assert np.array_equal(reliability.predicted, predicted)
    assert reliability.brier == fast_training.metrics["holdout"]["brier"]
    assert np.all((reliability.predicted >= 0) & (reliability.predicted <= 1))


def test_score_histogram_counts_every_holdout_customer_in_its_class(
    fast_training: TrainResult,
) -> None:
    y, p = fast_training.holdout_target, fast_training.holdout_scores
    histogram = score_histogram(y, p)
    assert histogram.edges[0] == 0.0
    assert histogram.edges[-1] == 1.0
    assert int(histogram.stayed.sum()) == int(np.sum(y == 0))
    assert int(histogram.churned.sum()) == int(np.sum(y == 1))
    # The top bin of churners: counted by hand, not by np.histogram.
    top = histogram.edges[-2]
    assert histogram.churned[-1] == int(np.sum((y == 1) & (p >= top)))


def test_training_writes_the_plots_next_to_the_card(fast_model_dir: Path) -> None:
    plots = fast_model_dir / "plots"
    assert sorted(path.name for path in plots.iterdir()) == sorted(PLOT_FILES.values())
    for name in PLOT_FILES.values():
        path = plots / name
        assert png_size(path) == (640, 480)
        assert 10_000 < path.stat().st_size < 300_000, f"{path}: {path.stat().st_size} bytes"


def test_model_card_md_shows_every_plot(fast_model_dir: Path) -> None:
    summary = (fast_model_dir / "MODEL_CARD.md").read_text()
    for name, file in PLOT_FILES.items():
        assert f"![{PLOT_TITLES[name]}](plots/{file})" in summary
    assert "Holdout plots (750 rows" in summary
    # `bankchurn model show` prints the card's summary without the pictures.
    card = json.loads((fast_model_dir / "model_card.json").read_text())
    assert "plots/" not in render_summary(card)


def test_report_plots_redraws_the_training_plots_byte_for_byte(
    fast_model_dir: Path, synthetic_csv: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    shutil.copytree(fast_model_dir, model)
    shutil.rmtree(model / "plots")
    (model / "MODEL_CARD.md").unlink()

    paths = redraw_plots(model, synthetic_csv)

    assert list(paths) == list(PLOT_FILES)
    for file in PLOT_FILES.values():
        assert (model / "plots" / file).read_bytes() == (
            fast_model_dir / "plots" / file
        ).read_bytes()
    assert (model / "MODEL_CARD.md").read_text() == (fast_model_dir / "MODEL_CARD.md").read_text()


def test_report_plots_refuses_data_the_model_was_not_trained_on(
    fast_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model"
    shutil.copytree(fast_model_dir, model)
    before = {path.name: path.read_bytes() for path in (model / "plots").iterdir()}
    other = tmp_path / "other.csv"
    write_csv(other, rows=500, seed=3)

    code = main(["report", "plots", "--model", str(model), "--data", str(other)])

    err = capsys.readouterr().err
    assert code == 2
    assert f"error: {other} is not the data {model} was trained on" in err
    assert "the card's training_data.sha256 is" in err
    assert {path.name: path.read_bytes() for path in (model / "plots").iterdir()} == before


def test_report_plots_refuses_a_model_that_does_not_reproduce_its_card(
    fast_model_dir: Path, synthetic_csv: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    shutil.copytree(fast_model_dir, model)
    card = json.loads((model / "model_card.json").read_text())
    card["metrics"]["holdout"]["roc_auc"] -= 0.01
    write_card(card, model)
    summary = (model / "MODEL_CARD.md").read_text()

    with pytest.raises(ReportError, match=r"gives roc_auc .* does not reproduce its card"):
        redraw_plots(model, synthetic_csv)
    # Nothing was written: a rewritten MODEL_CARD.md would show the edited roc_auc.
    assert (model / "MODEL_CARD.md").read_text() == summary


def test_committed_model_plots_are_what_report_plots_draws(
    committed_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The committed model was trained on `bankchurn data synth --rows 10000 --seed 42`.
    data = tmp_path / "synthetic.csv"
    write_csv(data, rows=10_000, seed=42)
    model = tmp_path / "models"
    shutil.copytree(committed_model_dir, model)

    assert main(["report", "plots", "--model", str(model), "--data", str(data)]) == 0

    out = capsys.readouterr().out
    for file in PLOT_FILES.values():
        assert f"wrote {model / 'plots' / file}" in out
        assert (model / "plots" / file).read_bytes() == (
            committed_model_dir / "plots" / file
        ).read_bytes(), f"models/plots/{file} is stale: run `bankchurn report plots`"
    assert (model / "MODEL_CARD.md").read_text() == (
        committed_model_dir / "MODEL_CARD.md"
    ).read_text()
