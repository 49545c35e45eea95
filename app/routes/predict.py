"""Churn predictions for one customer or a batch, with reasons on request (?explain=true)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.api_keys import ApiKeyDep
from app.dependencies import ScoringDep
from app.errors import BatchTooLargeError, documented
from app.explaining import (
    EXPLAIN_OPENAPI,
    add_reasons,
    check_request,
    explain_options,
    explain_responses,
)
from app.json_body import JSON_MEDIA_TYPE, JsonBodyRoute
from app.schemas import BatchRequest, BatchResponse, ChurnPrediction, PredictRequest
from app.scoring import score

# JsonBodyRoute: 415 for a body that is not JSON, 422 for a key given twice.
router = APIRouter(
    tags=["predict"], route_class=JsonBodyRoute, dependencies=[ApiKeyDep], responses=documented(401)
)


def json_response(answer: BaseModel) -> Response:
    """``answer`` serialised once, leaving out what was never set (reasons unless asked for).

    Returned as a Response, FastAPI sends it as is: the answer is built by scoring from
    validated inputs, and FastAPI validating it again against the response model (what
    it does with a returned model) cost more than serialising it (docs/performance.md).
    The response_model of each route still documents the shape in OpenAPI.
    """
    return Response(answer.model_dump_json(exclude_unset=True), media_type=JSON_MEDIA_TYPE)


@router.post(
    "/predict",
    summary="Churn probability, decision and risk band for one customer",
    response_model=ChurnPrediction,
    responses=explain_responses(400, 413, 415, 422, 503),
    openapi_extra=EXPLAIN_OPENAPI,
)
async def predict(
    customer: PredictRequest,
    scoring: ScoringDep,
    request: Request,
) -> Response:
    model, settings, metrics = scoring.model, scoring.settings, scoring.metrics
    options = explain_options(request)
    reasons = check_request(model, options.explain, options.k, 1, settings.max_explain_batch)
    [prediction] = await score(model, [customer], metrics, log_features=settings.log_features)
    if reasons:
        await add_reasons(model, [customer], [prediction], reasons, metrics)
    return json_response(prediction)


@router.post(
    "/predict/batch",
    summary="Predictions for several customers, in request order",
    response_model=BatchResponse,
    responses=explain_responses(400, 413, 415, 422, 503),
    openapi_extra=EXPLAIN_OPENAPI,
)
async def predict_batch(
    batch: BatchRequest,
    scoring: ScoringDep,
    request: Request,
) -> Response:
    """One invalid customer rejects the whole batch (422, its index in ``loc``)."""
    model, settings, metrics = scoring.model, scoring.settings, scoring.metrics
    if len(batch.customers) > settings.max_batch:
        raise BatchTooLargeError(len(batch.customers), settings.max_batch)
    options = explain_options(request)
    reasons = check_request(
        model, options.explain, options.k, len(batch.customers), settings.max_explain_batch
    )
    metrics.batch_size.observe(len(batch.customers))
    predictions = await score(model, batch.customers, metrics, log_features=settings.log_features)
    if reasons:
        await add_reasons(model, batch.customers, predictions, reasons, metrics)
    return json_response(
        BatchResponse.model_construct(
            model_version=model.version, threshold=model.threshold, predictions=predictions
        )
    )
