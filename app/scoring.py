"""Scoring: validated customers in, ``ChurnPrediction``s out (risk bands: app.risk_bands)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.log import prediction_logger
from app.metrics import ServiceMetrics
from app.risk_bands import risk_band
from app.schemas import ChurnPrediction, PredictRequest
from bankchurn.schema import encode_records

if TYPE_CHECKING:
    from app.model_loading import LoadedModel


async def score(
    model: LoadedModel,
    customers: Sequence[PredictRequest],
    metrics: ServiceMetrics,
    *,
    log_features: bool,
) -> list[ChurnPrediction]:
    """One prediction per customer, in order; records the model metrics."""
    records = [customer.model_dump(exclude={"id"}) for customer in customers]
    matrix = encode_records(records)
    probabilities, seconds = await model.predict_proba(matrix)
    metrics.inference_duration.observe(seconds)
    metrics.record_inputs(model.drift, matrix)
    threshold = model.threshold
    predictions = [
        ChurnPrediction(
            id=customer.id,
            churn_probability=float(probability),
            churn=bool(probability >= threshold),
            risk_band=risk_band(float(probability), threshold),
            threshold=threshold,
            model_version=model.version,
        )
        for customer, probability in zip(customers, probabilities, strict=True)
    ]
    metrics.record_predictions(
        [p.churn_probability for p in predictions], [p.churn for p in predictions]
    )
    if log_features:  # opt-in only: these are a customer's personal data
        for record, prediction in zip(records, predictions, strict=True):
            prediction_logger.info(
                "prediction",
                extra={
                    "client_id": prediction.id,
                    "features": record,
                    "churn_probability": prediction.churn_probability,
                    "model_version": prediction.model_version,
                },
            )
    return predictions
