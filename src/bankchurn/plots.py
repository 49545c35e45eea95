"""The model report's plots of one set of labelled scores (a holdout): ROC and precision-recall
curves, a calibration (reliability) diagram and the score distribution by class.

Each plot is drawn from a small data function (``roc``, ``precision_recall``, ``calibration``,
``score_histogram``) built on the same scikit-learn functions as ``bankchurn.evaluate``, so
the numbers a plot shows are the card's numbers and are tested as numbers, not pixels.

matplotlib is a training-side dependency (requirements-train.txt, requirements-dev.txt) and
absent from the serving locks: only training, `bankchurn report plots` and the acceptance
report import this module, always inside a function, and it imports matplotlib only when it
draws. It draws on a bare ``Figure`` saved through the Agg canvas, so no display, GUI
backend or pyplot global state is involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from bankchurn.evaluate import Labels, Scores

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Floats = npt.NDArray[np.float64]

# The files written, in the order the report shows them; their names never change, so docs
# can link them and a retrained model overwrites the previous one's plots.
PLOTS_DIR = "plots"
PLOT_FILES = {
    "roc": "roc.png",
    "precision_recall": "precision_recall.png",
    "calibration": "calibration.png",
    "score_distribution": "score_distribution.png",
}
PLOT_TITLES = {
    "roc": "ROC curve",
    "precision_recall": "Precision-recall curve",
    "calibration": "Calibration (reliability)",
    "score_distribution": "Score distribution by class",
}
CALIBRATION_BINS = 10
HISTOGRAM_BINS = 20
# 6.4 x 4.8 in at 100 dpi: 640 x 480 pixels, readable inline on GitHub, ~30-60 kB each.
_SIZE_INCHES = (6.4, 4.8)
_DPI = 100


@dataclass(frozen=True)
class Curve:
    """A curve's points and the area the card reports for it."""

    x: Floats
    y: Floats
    area: float


@dataclass(frozen=True)
class Calibration:
    """Per non-empty bin of predicted probability: its mean prediction and observed churn rate."""

    predicted: Floats
    observed: Floats
    brier: float


@dataclass(frozen=True)
class Histogram:
    """Counts of scores per bin of [0, 1], for the customers who stayed and who churned."""

    edges: Floats
    stayed: npt.NDArray[np.int64]
    churned: npt.NDArray[np.int64]


def roc(y: Labels, p: Scores) -> Curve:
    """False positive rate (x) against true positive rate (y); area = the card's roc_auc."""
    fpr, tpr, _ = roc_curve(y, p)
    return Curve(fpr, tpr, float(roc_auc_score(y, p)))


def precision_recall(y: Labels, p: Scores) -> Curve:
    """Recall (x) against precision (y); area = average precision, the card's pr_auc."""
    precision, recall, _ = precision_recall_curve(y, p)
    return Curve(recall, precision, float(average_precision_score(y, p)))


def calibration(y: Labels, p: Scores, bins: int = CALIBRATION_BINS) -> Calibration:
    """Uniform bins of predicted probability; brier = the card's brier."""
    observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="uniform")
    return Calibration(predicted, observed, float(brier_score_loss(y, p)))


def score_histogram(y: Labels, p: Scores, bins: int = HISTOGRAM_BINS) -> Histogram:
    edges = np.linspace(0.0, 1.0, bins + 1)
    stayed, _ = np.histogram(p[y == 0], bins=edges)
    churned, _ = np.histogram(p[y == 1], bins=edges)
    return Histogram(edges, stayed.astype(np.int64), churned.astype(np.int64))


def _axes(title: str, subtitle: str) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=_SIZE_INCHES, dpi=_DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(f"{title}\n{subtitle}", fontsize=10)
    axes.grid(alpha=0.3)
    return figure, axes


def _operating_point(y: Labels, p: Scores, threshold: float) -> tuple[float, float, float]:
    """False positive rate, recall and precision of the decision at ``threshold``."""
    decided = p >= threshold
    positives = max(int(np.sum(y == 1)), 1)
    negatives = max(int(np.sum(y == 0)), 1)
    flagged = max(int(np.sum(decided)), 1)
    true_positives = int(np.sum(decided & (y == 1)))
    false_positives = int(np.sum(decided & (y == 0)))
    return false_positives / negatives, true_positives / positives, true_positives / flagged


def _draw(y: Labels, p: Scores, threshold: float, subtitle: str) -> dict[str, Figure]:
    fpr_at, recall_at, precision_at = _operating_point(y, p, threshold)
    at = f"threshold {threshold:.4f}"
    figures: dict[str, Figure] = {}

    curve = roc(y, p)
    figure, axes = _axes(PLOT_TITLES["roc"], subtitle)
    axes.plot(curve.x, curve.y, label=f"model (ROC-AUC {curve.area:.4f})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance (0.5)")
    axes.plot([fpr_at], [recall_at], "o", color="black", label=at)
    axes.set(xlabel="false positive rate", ylabel="true positive rate (recall)")
    axes.legend(loc="lower right")
    figures["roc"] = figure

    curve = precision_recall(y, p)
    figure, axes = _axes(PLOT_TITLES["precision_recall"], subtitle)
    axes.step(curve.x, curve.y, where="post", label=f"model (PR-AUC {curve.area:.4f})")
    axes.axhline(float(np.mean(y)), linestyle="--", color="grey",
                 label=f"churn rate ({np.mean(y):.3f})")  # fmt: skip
    axes.plot([recall_at], [precision_at], "o", color="black", label=at)
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="upper right")
    figures["precision_recall"] = figure

    reliability = calibration(y, p)
    figure, axes = _axes(PLOT_TITLES["calibration"], subtitle)
    axes.plot(reliability.predicted, reliability.observed, "o-",
              label=f"model (Brier {reliability.brier:.4f})")  # fmt: skip
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    axes.set(xlabel=f"mean predicted probability ({CALIBRATION_BINS} equal-width bins)",
             ylabel="observed churn rate", xlim=(0, 1), ylim=(0, 1))  # fmt: skip
    axes.legend(loc="upper left")
    figures["calibration"] = figure

    histogram = score_histogram(y, p)
    figure, axes = _axes(PLOT_TITLES["score_distribution"], subtitle)
    for counts, label in ((histogram.stayed, "stayed"), (histogram.churned, "churned")):
        axes.stairs(counts, histogram.edges, fill=True, alpha=0.5,
                    label=f"{label} ({int(counts.sum())})")  # fmt: skip
    axes.axvline(threshold, linestyle="--", color="black", label=at)
    axes.set(xlabel="predicted churn probability", ylabel="customers", xlim=(0, 1))
    axes.legend(loc="upper right")
    figures["score_distribution"] = figure
    return figures


def write_plots(
    y: Labels, p: Scores, threshold: float, out_dir: Path, subtitle: str
) -> dict[str, Path]:
    """Draw the four plots of labels ``y`` and scores ``p`` into ``out_dir`` (created), named
    as in PLOT_FILES; return {plot name: path} in that order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, figure in _draw(y, p, threshold, subtitle).items():
        path = out_dir / PLOT_FILES[name]
        # No "Software" entry (matplotlib's version): the same numbers give the same bytes.
        figure.savefig(path, format="png", metadata={"Software": None})
        paths[name] = path
    return paths
