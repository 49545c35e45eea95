"""Churn predictions for one customer or a batch."""

from __future__ import annotations

from fastapi import APIRouter

from app.dependencies import LoadedModelDep, MetricsDep, SettingsDep
from app.errors import BatchTooLargeError, documented
from app.json_body import JsonBodyRoute
from app.schemas import BatchRequest, BatchResponse, ChurnPrediction, PredictRequest
from app.scoring import score

# JsonBodyRoute: 415 for a body that is not JSON, 422 for a key given twice.
router = APIRouter(tags=["predict"], route_class=JsonBodyRoute)


@router.post(
    "/predict",
    summary="Churn probability, decision and risk band for one customer",
    responses=documented(400, 413, 415, 422, 503),
)
async def predict(
    customer: PredictRequest,
    model: LoadedModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> ChurnPrediction:
    [prediction] = await score(model, [customer], metrics, log_features=settings.log_features)
    return prediction


@router.post(
    "/predict/batch",
    summary="Predictions for several customers, in request order",
    responses=documented(400, 413, 415, 422, 503),
)
async def predict_batch(
    batch: BatchRequest,
    model: LoadedModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> BatchResponse:
    """One invalid customer rejects the whole batch (422, its index in ``loc``)."""
    if len(batch.customers) > settings.max_batch:
        raise BatchTooLargeError(len(batch.customers), settings.max_batch)
    metrics.batch_size.observe(len(batch.customers))
    predictions = await score(model, batch.customers, metrics, log_features=settings.log_features)
    return BatchResponse(
        model_version=model.version, threshold=model.threshold, predictions=predictions
    )
