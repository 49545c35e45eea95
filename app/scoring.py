"""Scoring: validated customers in, scores out, as ``ChurnPrediction``s or as answer bytes.

Risk bands: app.risk_bands. The plain answers (no reasons) are serialised straight from
the scores; the models are built only where something is added to them (reason codes) or
another shape is made from them (the V2 protocol).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from app.log import prediction_logger
from app.metrics import ServiceMetrics
from app.risk_bands import risk_band
from app.schemas import ChurnPrediction, PredictRequest
from bankchurn.schema import encode_records

if TYPE_CHECKING:
    from app.model_loading import LoadedModel


@dataclass(frozen=True, slots=True)
class Scores:
    """One score per customer, in request order, and the model that gave them."""

    ids: list[str | None]
    probabilities: list[float]
    decisions: list[bool]
    threshold: float
    model_version: str

    def predictions(self) -> list[ChurnPrediction]:
        # Validated construction, not model_construct: pydantic-core checks the six fields
        # faster than model_construct's Python loop sets them (100 rows: ~2.6x, in-process).
        return [ChurnPrediction(**fields) for fields in self._documents()]

    def single_json(self) -> bytes:
        """``ChurnPrediction.model_dump_json(exclude_unset=True)`` of the one prediction:
        the same bytes (tests/api/test_scoring.py), without building the model first."""
        [document] = self._documents()
        return to_json(document)

    def batch_json(self) -> bytes:
        """The same for a ``BatchResponse``: 100 predictions cost a third of building and
        serialising 100 models (docs/performance.md)."""
        return to_json(
            {
                "model_version": self.model_version,
                "threshold": self.threshold,
                "predictions": self._documents(),
            }
        )

    def _documents(self) -> list[dict[str, Any]]:
        """ChurnPrediction's fields in its order; ``reasons`` are added by the explain path
        only, so a plain answer leaves them (and the reference probability) out."""
        threshold, version = self.threshold, self.model_version
        return [
            {
                "id": client_id,
                "churn_probability": probability,
                "churn": churn,
                "risk_band": risk_band(probability, threshold),
                "threshold": threshold,
                "model_version": version,
            }
            for client_id, probability, churn in zip(
                self.ids, self.probabilities, self.decisions, strict=True
            )
        ]


async def score(
    model: LoadedModel,
    customers: Sequence[PredictRequest],
    metrics: ServiceMetrics,
    *,
    log_features: bool,
) -> Scores:
    """One score per customer, in order; records the model metrics."""
    # A validated model's __dict__ is its fields by name: what encode_records reads (it
    # ignores ``id``), without a model_dump copy per customer.
    matrix = encode_records([vars(customer) for customer in customers])
    probabilities, seconds = await model.predict_proba(matrix)
    metrics.inference_duration.observe(seconds)
    metrics.record_inputs(model.drift, matrix)
    threshold = model.threshold
    values = probabilities.tolist()
    decisions = [probability >= threshold for probability in values]
    metrics.record_predictions(values, decisions)
    scores = Scores(
        [customer.id for customer in customers], values, decisions, threshold, model.version
    )
    if log_features:  # opt-in only: these are a customer's personal data
        for customer, probability in zip(customers, values, strict=True):
            prediction_logger.info(
                "prediction",
                extra={
                    "client_id": customer.id,
                    "features": customer.model_dump(exclude={"id"}),
                    "churn_probability": probability,
                    "model_version": model.version,
                },
            )
    return scores
