"""Churn predictions for one customer or a batch, with reasons on request (?explain=true)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api_keys import ApiKeyDep
from app.dependencies import LoadedModelDep, MetricsDep, SettingsDep
from app.errors import BatchTooLargeError, documented
from app.explaining import (
    DEFAULT_K,
    ExplainQuery,
    KQuery,
    add_reasons,
    check_request,
    explain_responses,
)
from app.json_body import JsonBodyRoute
from app.schemas import BatchRequest, BatchResponse, ChurnPrediction, PredictRequest
from app.scoring import score

# JsonBodyRoute: 415 for a body that is not JSON, 422 for a key given twice.
router = APIRouter(
    tags=["predict"], route_class=JsonBodyRoute, dependencies=[ApiKeyDep], responses=documented(401)
)


# response_model_exclude_unset: reasons appear only when asked for; every other field is
# always set by scoring, so plain answers are unchanged.
@router.post(
    "/predict",
    summary="Churn probability, decision and risk band for one customer",
    responses=explain_responses(400, 413, 415, 422, 503),
    response_model_exclude_unset=True,
)
async def predict(
    customer: PredictRequest,
    model: LoadedModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    explain: ExplainQuery = False,
    k: KQuery = DEFAULT_K,
) -> ChurnPrediction:
    reasons = check_request(model, explain, k, 1, settings.max_explain_batch)
    [prediction] = await score(model, [customer], metrics, log_features=settings.log_features)
    if reasons:
        await add_reasons(model, [customer], [prediction], reasons, metrics)
    return prediction


@router.post(
    "/predict/batch",
    summary="Predictions for several customers, in request order",
    responses=explain_responses(400, 413, 415, 422, 503),
    response_model_exclude_unset=True,
)
async def predict_batch(
    batch: BatchRequest,
    model: LoadedModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    explain: ExplainQuery = False,
    k: KQuery = DEFAULT_K,
) -> BatchResponse:
    """One invalid customer rejects the whole batch (422, its index in ``loc``)."""
    if len(batch.customers) > settings.max_batch:
        raise BatchTooLargeError(len(batch.customers), settings.max_batch)
    reasons = check_request(model, explain, k, len(batch.customers), settings.max_explain_batch)
    metrics.batch_size.observe(len(batch.customers))
    predictions = await score(model, batch.customers, metrics, log_features=settings.log_features)
    if reasons:
        await add_reasons(model, batch.customers, predictions, reasons, metrics)
    return BatchResponse(
        model_version=model.version, threshold=model.threshold, predictions=predictions
    )
