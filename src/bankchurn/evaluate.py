"""Metrics of a set of churn probabilities, and the choice of the decision threshold."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

from bankchurn.config import ThresholdConfig

Labels = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float64]


def ranking_metrics(y: Labels, p: Scores) -> dict[str, float]:
    """Threshold-free metrics: how well the scores rank and how calibrated they are."""
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
    }


def classification_metrics(y: Labels, p: Scores, threshold: float) -> dict[str, Any]:
    """Ranking metrics plus the decision metrics at ``threshold``."""
    decided = (p >= threshold).astype(np.int64)
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y, decided, labels=[0, 1]).ravel())
    return {
        **ranking_metrics(y, p),
        "threshold": threshold,
        "f1": float(f1_score(y, decided, zero_division=0)),
        "precision": float(precision_score(y, decided, zero_division=0)),
        "recall": float(recall_score(y, decided, zero_division=0)),
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        "rows": len(y),
    }


def choose_threshold(y: Labels, p: Scores, policy: ThresholdConfig) -> float:
    """Pick the decision threshold on validation scores, as ``policy`` states."""
    if policy.policy == "fixed" and policy.value is not None:
        return policy.value
    precision, recall, thresholds = precision_recall_curve(y, p)
    # precision/recall have one more entry than thresholds (the point at recall 0).
    precision, recall = precision[:-1], recall[:-1]
    if policy.policy == "max_f1":
        with np.errstate(divide="ignore", invalid="ignore"):
            f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)
        return float(thresholds[int(np.argmax(f1))])
    # ThresholdConfig guarantees min_recall is set for this policy.
    eligible = np.flatnonzero(recall >= (policy.min_recall or 0.0))
    # recall falls as the threshold rises: the last eligible one is the strictest.
    return float(thresholds[eligible[-1]])
