"""Evaluation: each threshold policy picks the threshold it promises."""

from __future__ import annotations

import numpy as np

from bankchurn.config import ThresholdConfig
from bankchurn.evaluate import choose_threshold, classification_metrics


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
