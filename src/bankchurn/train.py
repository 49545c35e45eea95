"""Fit the churn pipeline: cross-validate, choose the threshold, fit, score the holdout.

The procedure, in order, all seeded by ``config.seed``:
1. a stratified holdout is set aside and touched only once, at the end;
2. stratified k-fold CV on the rest gives the CV metrics and out-of-fold scores;
3. the decision threshold is chosen on those out-of-fold scores (never the holdout);
4. the pipeline is fitted on the whole training part and scored on the holdout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from bankchurn.config import TrainConfig
from bankchurn.data import Dataset, frame_to_matrix
from bankchurn.drift import DriftReference, build_reference
from bankchurn.evaluate import (
    Labels,
    Scores,
    choose_threshold,
    classification_metrics,
    ranking_metrics,
)
from bankchurn.explain import explanation_section
from bankchurn.schema import CATEGORICAL_INDICES, FEATURES, CategoricalFeature, Matrix

_ESTIMATORS: dict[str, Any] = {
    "hist_gradient_boosting": HistGradientBoostingClassifier,
    "random_forest": RandomForestClassifier,
    "logistic_regression": LogisticRegression,
}


def build_pipeline(config: TrainConfig) -> Pipeline:
    """The unfitted pipeline: one-hot the schema's categories, then the estimator.

    It takes the schema's numeric matrix (categories as their index), so serving needs
    no DataFrame. The category list is fixed from the schema, not learnt from the data,
    so a category missing from a small training set still encodes the same way.
    """
    categories = [
        [float(i) for i in range(len(f.categories))]
        for f in FEATURES
        if isinstance(f, CategoricalFeature)
    ]
    # Trees need no scaling; a linear model does.
    numeric = "passthrough"
    if config.estimator.type == "logistic_regression":
        numeric = StandardScaler()
    encode = ColumnTransformer(
        [
            (
                "onehot",
                OneHotEncoder(categories=categories, handle_unknown="error"),
                list(CATEGORICAL_INDICES),
            )
        ],
        remainder=numeric,
    )
    params = {**config.estimator.params}
    if config.estimator.type != "logistic_regression":
        params.setdefault("random_state", config.seed)
    estimator = _ESTIMATORS[config.estimator.type](**params)
    return Pipeline([("encode", encode), ("model", estimator)])


@dataclass(frozen=True)
class TrainResult:
    pipeline: Pipeline
    threshold: float
    metrics: dict[str, Any]
    holdout_matrix: Matrix
    holdout_target: Labels
    holdout_scores: Scores
    drift_reference: DriftReference
    # The model card's reason-code method and reference customer (bankchurn.explain).
    explanation: dict[str, Any]


def _summary(values: list[float]) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "std": float(np.std(values))}


def split_holdout(dataset: Dataset, config: TrainConfig) -> tuple[Matrix, Matrix, Labels, Labels]:
    """(x_train, x_holdout, y_train, y_holdout): the stratified, seeded split of step 1.

    The one definition of the holdout, so `bankchurn report plots` finds again the very rows
    a saved model's card was scored on."""
    x_train, x_hold, y_train, y_hold = train_test_split(
        frame_to_matrix(dataset.features),
        dataset.target,
        test_size=config.split.test_size,
        stratify=dataset.target,
        random_state=config.seed,
    )
    return x_train, x_hold, y_train, y_hold


def train(dataset: Dataset, config: TrainConfig) -> TrainResult:
    x_train, x_hold, y_train, y_hold = split_holdout(dataset, config)

    folds = StratifiedKFold(config.split.cv_folds, shuffle=True, random_state=config.seed)
    out_of_fold = np.zeros(len(y_train), dtype=np.float64)
    fold_metrics: list[dict[str, float]] = []
    for fit_rows, val_rows in folds.split(x_train, y_train):
        model = clone(build_pipeline(config)).fit(x_train[fit_rows], y_train[fit_rows])
        out_of_fold[val_rows] = model.predict_proba(x_train[val_rows])[:, 1]
        fold_metrics.append(ranking_metrics(y_train[val_rows], out_of_fold[val_rows]))

    threshold = choose_threshold(y_train, out_of_fold, config.threshold)
    pipeline = build_pipeline(config).fit(x_train, y_train)
    holdout_scores = pipeline.predict_proba(x_hold)[:, 1]

    cross_validation: dict[str, Any] = {
        name: _summary([fold[name] for fold in fold_metrics]) for name in fold_metrics[0]
    }
    cross_validation["folds"] = config.split.cv_folds
    cross_validation["out_of_fold_at_threshold"] = classification_metrics(
        y_train, out_of_fold, threshold
    )
    metrics = {
        "holdout": classification_metrics(y_hold, holdout_scores, threshold),
        "cross_validation": cross_validation,
    }
    # Drift is judged against what the model was fitted on: the training part only, as is
    # the reference customer of the reason codes.
    return TrainResult(
        pipeline,
        threshold,
        metrics,
        x_hold,
        y_hold,
        holdout_scores,
        build_reference(x_train),
        explanation_section(x_train),
    )
