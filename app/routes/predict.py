"""Churn predictions for one customer or a batch, with reasons on request (?explain=true)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.api_keys import ApiKeyDep
from app.dependencies import Scoring, ScoringDep
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
from app.scoring import Scores, score

if TYPE_CHECKING:
    from app.model_loading import LoadedModel

# JsonBodyRoute: 415 for a body that is not JSON, 422 for a key given twice.
router = APIRouter(
    tags=["predict"], route_class=JsonBodyRoute, dependencies=[ApiKeyDep], responses=documented(401)
)


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
    options = explain_options(request)
    reasons = check_request(
        scoring.model, options.explain, options.k, 1, scoring.settings.max_explain_batch
    )
    if not reasons:
        return _json_response(await single_answer(scoring, customer))
    [prediction] = (await _score(scoring, [customer])).predictions()
    await add_reasons(scoring.model, [customer], [prediction], reasons, scoring.metrics)
    return _json_response(_serialised(prediction))


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
    check_batch_size(batch, scoring.settings.max_batch)
    options = explain_options(request)
    reasons = check_request(
        scoring.model,
        options.explain,
        options.k,
        len(batch.customers),
        scoring.settings.max_explain_batch,
    )
    if not reasons:
        return _json_response(await batch_answer(scoring, batch))
    scoring.metrics.batch_size.observe(len(batch.customers))
    predictions = (await _score(scoring, batch.customers)).predictions()
    await add_reasons(scoring.model, batch.customers, predictions, reasons, scoring.metrics)
    return _json_response(_serialised(_batch_response(scoring.model, predictions)))


# The answers without reasons, as bytes: the routes above and app.predict_fast_path (which
# answers ordinary requests before FastAPI does) send these, so both send the same.


async def single_answer(scoring: Scoring, customer: PredictRequest) -> bytes:
    return (await _score(scoring, [customer])).single_json()


async def batch_answer(scoring: Scoring, batch: BatchRequest) -> bytes:
    """For a batch within BANKCHURN_MAX_BATCH (``check_batch_size``)."""
    scoring.metrics.batch_size.observe(len(batch.customers))
    return (await _score(scoring, batch.customers)).batch_json()


def check_batch_size(batch: BatchRequest, limit: int) -> None:
    """Raises BatchTooLargeError (413), before anything is scored."""
    if len(batch.customers) > limit:
        raise BatchTooLargeError(len(batch.customers), limit)


async def _score(scoring: Scoring, customers: list[PredictRequest]) -> Scores:
    return await score(
        scoring.model, customers, scoring.metrics, log_features=scoring.settings.log_features
    )


def _batch_response(model: LoadedModel, predictions: list[ChurnPrediction]) -> BatchResponse:
    return BatchResponse.model_construct(
        model_version=model.version, threshold=model.threshold, predictions=predictions
    )


def _serialised(answer: BaseModel) -> bytes:
    """``answer`` serialised once, leaving out what was never set (reasons unless asked for).

    Sent as a Response, FastAPI sends it as is: the answer is built by scoring from
    validated inputs, and FastAPI validating it again against the response model (what
    it does with a returned model) cost more than serialising it (docs/performance.md).
    The response_model of each route still documents the shape in OpenAPI.
    """
    return answer.model_dump_json(exclude_unset=True).encode()


def _json_response(content: bytes) -> Response:
    return Response(content, media_type=JSON_MEDIA_TYPE)
