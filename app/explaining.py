"""Reason codes on the prediction routes: ``?explain=true&k=3``, checked, computed, attached.

The method is ``bankchurn.explain`` (exact baseline Shapley values against the reference
customer in the model card). Here is only what the API adds: the query parameters, the
limits and errors, one model call per request through ``LoadedModel.predict_proba`` (so
scikit-learn runs on the inference thread, with its thread limit), and the ``Reason``
objects. Nothing in this module runs unless a request asks for an explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.errors import ApiError, documented
from app.metrics import ServiceMetrics
from app.reason_schema import Reason
from app.schemas import ChurnPrediction, ErrorDetail, ErrorResponse, PredictRequest
from bankchurn.explain import attribute, coalitions, reference_row
from bankchurn.reasons import reason_text
from bankchurn.schema import FEATURE_NAMES, FEATURES, encode_records

if TYPE_CHECKING:
    from app.model_loading import LoadedModel

DEFAULT_K = 3


class ExplainOptions(BaseModel):
    """The query parameters of the prediction routes, ``?explain=true&k=3``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    explain: bool = Field(
        False,
        description="Add the top k reasons to each prediction: exact baseline Shapley "
        "contributions against the model card's reference customer (docs/explanations.md). "
        "At most BANKCHURN_MAX_EXPLAIN_BATCH customers (default 100) per request.",
    )
    # Ignored without explain=true, rather than refused: OpenAPI cannot say "k only with
    # explain", and a request the schema allows must not fail (the fuzz test holds us to it).
    k: int = Field(
        DEFAULT_K,
        ge=1,
        le=len(FEATURES),
        description=f"How many reasons per customer, 1 to {len(FEATURES)}; used only with "
        "explain=true.",
    )


NO_EXPLANATION = ExplainOptions()


def _query_parameters() -> list[dict[str, Any]]:
    schema = ExplainOptions.model_json_schema()["properties"]
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": field.pop("description"),
            "schema": field,
        }
        for name, field in schema.items()
    ]


# The routes' OpenAPI parameters, as FastAPI would write them for ``Query`` arguments.
EXPLAIN_OPENAPI: dict[str, Any] = {"parameters": _query_parameters()}


def explain_options(request: Request) -> ExplainOptions:
    """The request's options, validated as FastAPI validates query parameters (lax strings,
    422 with ``loc`` ``["query", name]``, the last of repeated values).

    Read here instead of declared as ``Query`` arguments because FastAPI resolves declared
    parameters on every request: for these two that was 6 % of a plain single-row request's
    instructions (docs/instructions.md), a cost every caller paid for a feature few use. A
    request without a query string, nearly all of them, costs one lookup. Query errors are
    reported once the body is valid (FastAPI reports the body's first).
    """
    if not request.scope["query_string"]:
        return NO_EXPLANATION
    try:
        return ExplainOptions.model_validate(dict(request.query_params))
    except ValidationError as error:
        problems = error.errors(include_url=False)
        raise RequestValidationError(
            [{**problem, "loc": ("query", *problem["loc"])} for problem in problems]
        ) from None


class ExplanationUnavailableError(ApiError):
    """409: the served model's card records no reference customer (trained before #14)."""

    def __init__(self, version: str) -> None:
        super().__init__(
            409,
            "explanation_unavailable",
            f"The served model ({version}) was trained before reference customers were "
            "recorded, so it cannot be explained. Retrain it with this release "
            "(`bankchurn train`), or send the request without explain=true.",
        )


class ExplainBatchTooLargeError(ApiError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            413,
            "batch_too_large",
            f"The batch has {size} customers; at most {limit} can be explained per request "
            "(BANKCHURN_MAX_EXPLAIN_BATCH). Split it, or send it without explain=true.",
            details=[
                ErrorDetail(
                    loc=["body", "customers"],
                    msg=f"List should have at most {limit} items to explain, not {size}",
                    type="too_long",
                )
            ],
        )


def explain_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The routes' documented errors, with 409 and the explain limit in 413 added."""
    responses = documented(*statuses)
    responses[413] = {
        **responses[413],
        "description": f"{responses[413]['description']} With explain=true: more customers "
        "than BANKCHURN_MAX_EXPLAIN_BATCH.",
    }
    responses[409] = {
        "model": ErrorResponse,
        "description": "explain=true, but the served model records no reference customer "
        "(trained before reason codes); retrain it.",
    }
    return responses


def check_request(model: LoadedModel, explain: bool, k: int, size: int, limit: int) -> int:
    """How many reasons to return (0: no explanation asked), or the request's error,
    raised before anything is scored."""
    if not explain:
        return 0
    if model.card.explanation is None:
        raise ExplanationUnavailableError(model.version)
    if size > limit:
        raise ExplainBatchTooLargeError(size, limit)
    return k


async def add_reasons(
    model: LoadedModel,
    customers: Sequence[PredictRequest],
    predictions: Sequence[ChurnPrediction],
    k: int,
    metrics: ServiceMetrics,
) -> None:
    """Attach the top ``k`` reasons and the reference probability to each prediction."""
    section = model.card.explanation
    if section is None:  # check_request refuses these first
        raise ExplanationUnavailableError(model.version)
    started = perf_counter()
    reference = section.reference.model_dump()
    records = [customer.model_dump(exclude={"id"}) for customer in customers]
    mixes = coalitions(encode_records(records), reference_row(reference))
    values, _ = await model.predict_proba(mixes)
    result = attribute(values, len(FEATURES))
    for record, prediction, contributions in zip(
        records, predictions, result.contributions, strict=True
    ):
        prediction.reasons = top_reasons(record, reference, contributions.tolist(), k)
        prediction.reference_churn_probability = result.reference_probability
    metrics.explanations.labels(backend=model.backend).inc(len(customers))
    metrics.explanation_duration.labels(backend=model.backend).observe(perf_counter() - started)


def top_reasons(
    record: dict[str, Any], reference: dict[str, Any], contributions: list[float], k: int
) -> list[Reason]:
    """The ``k`` largest |contributions|, ties in schema order (sorting is stable)."""
    order = sorted(range(len(FEATURE_NAMES)), key=lambda i: -abs(contributions[i]))[:k]
    reasons = []
    for i in order:
        name, contribution = FEATURE_NAMES[i], contributions[i]
        direction = "raises" if contribution > 0 else "lowers" if contribution < 0 else "none"
        reasons.append(
            Reason(
                feature=name,
                value=record[name],
                reference=reference[name],
                contribution=contribution,
                direction=direction,
                text=reason_text(name, record[name], reference[name]),
            )
        )
    return reasons
