"""BentoML peer: the service a BentoML user writes for models/model.joblib.

The idiomatic BentoML 1.4 service: one class, the model loaded in ``__init__``, one
``@bentoml.api`` taking the encoded feature matrix and returning P(churn) per row. The
harness (benchmarks/serving) sets ``BENCH_MODEL`` and runs
``bentoml serve service:Bankchurn`` from this folder, pinned to one core.
"""

from __future__ import annotations

import os

import bentoml
import joblib
import numpy as np


@bentoml.service(workers=1, traffic={"timeout": 30})
class Bankchurn:
    def __init__(self) -> None:
        self.model = joblib.load(os.environ["BENCH_MODEL"])

    @bentoml.api
    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(features)[:, 1]
