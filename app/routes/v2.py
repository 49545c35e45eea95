"""The Open Inference Protocol ("V2") REST API beside the native one, on the same model.

What KServe, Seldon MLServer and Triton clients speak: server liveness/readiness and
metadata, the model's readiness and metadata, and inference with one named input per
feature (app.v2_codec). A request takes its model once (LoadedModelDep), so every row is
scored by one model and ``model_version`` names it; scoring, metrics, drift counts and
limits are the native API's (app.scoring). Errors have the protocol's shape
(app.errors). ``/versions/<v>`` paths are accepted for the served version only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from app.api_keys import ApiKeyDep
from app.dependencies import LoadedModelDep, MetricsDep, SettingsDep
from app.draining import require_not_draining
from app.errors import ApiError
from app.json_body import OpenInferenceRoute
from app.scoring import score
from app.v2_codec import INPUTS, OUTPUTS, decode, encode
from app.v2_schemas import (
    InferenceRequest,
    InferenceResponse,
    LiveResponse,
    ModelMetadata,
    ModelReadyResponse,
    ReadyResponse,
    ServerMetadata,
    V2ErrorResponse,
)
from bankchurn.schema import MODEL_NAME

router = APIRouter(prefix="/v2", tags=["open inference protocol (v2)"])
inference = APIRouter(
    prefix="/v2", tags=["open inference protocol (v2)"], route_class=OpenInferenceRoute
)

_DESCRIPTIONS = {
    400: "The request is invalid; the error string names each input and element at fault.",
    401: "An API key is required and was missing or not accepted (WWW-Authenticate: Bearer).",
    404: "No such model (this server serves 'bankchurn') or version (only the served one).",
    413: "The body is over BANKCHURN_MAX_BODY_BYTES or the inputs hold over BANKCHURN_MAX_BATCH "
    "customers.",
    415: "The body is not sent as JSON (the binary tensor extension is not supported).",
    503: "The model is not ready (loading, refused at start-up, shutting down) or the worker "
    "is at its request limit.",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    return {s: {"model": V2ErrorResponse, "description": _DESCRIPTIONS[s]} for s in statuses}


class ModelNotFoundError(ApiError):
    def __init__(self, what: str) -> None:
        super().__init__(404, "model_not_found", what)


async def _named(model_name: Annotated[str, Path(description="bankchurn")]) -> None:
    if model_name != MODEL_NAME:
        raise ModelNotFoundError(
            f"No model named {model_name[:64]!r}; this server serves {MODEL_NAME!r}."
        )


async def _versioned(model: LoadedModelDep, model_version: Annotated[str, Path()]) -> None:
    """A /versions/<v> path must name the served version (the request's model, cached by
    FastAPI for the request, so the check and the scoring see the same one)."""
    if model_version != model.version:
        raise ModelNotFoundError(
            f"Version {model_version[:64]!r} of {MODEL_NAME!r} is not served; the served "
            f"version is {model.version!r} (or leave /versions/... out)."
        )


_MODEL = "/models/{model_name}"
_VERSIONED = "/models/{model_name}/versions/{model_version}"


@router.get("", summary="Server metadata")
async def server_metadata(request: Request) -> ServerMetadata:
    return ServerMetadata(name=MODEL_NAME, version=request.app.version, extensions=[])


@router.get("/health/live", summary="Server liveness: 200 while the process answers")
async def server_live() -> LiveResponse:
    return LiveResponse(live=True)


@router.get(
    "/health/ready", summary="Server readiness: 200 once the model is ready", responses=_errors(503)
)
async def server_ready(_: LoadedModelDep) -> ReadyResponse:
    require_not_draining()
    return ReadyResponse(ready=True)


async def model_ready(_: LoadedModelDep) -> ModelReadyResponse:
    require_not_draining()
    return ModelReadyResponse(name=MODEL_NAME, ready=True)


async def model_metadata(model: LoadedModelDep) -> ModelMetadata:
    return ModelMetadata(
        name=MODEL_NAME,
        versions=[model.version],
        platform=model.backend,
        inputs=list(INPUTS),
        outputs=list(OUTPUTS),
    )


async def infer(
    request: InferenceRequest, model: LoadedModelDep, settings: SettingsDep, metrics: MetricsDep
) -> InferenceResponse:
    """One input per feature (see the model metadata), n customers each; outputs
    churn_probability (FP64), churn (BOOL) and risk_band (BYTES), n values each."""
    customers = decode(request, settings.max_batch)
    metrics.batch_size.observe(len(customers))
    scores = await score(model, customers, metrics, log_features=settings.log_features)
    predictions = scores.predictions()
    requested = [output.name for output in request.outputs] if request.outputs else None
    return InferenceResponse(
        model_name=MODEL_NAME,
        model_version=model.version,
        id=request.id,
        parameters={"threshold": model.threshold},
        outputs=encode(predictions, requested),
    )


for _base, _path_checks in (
    (_MODEL, [Depends(_named)]),
    (_VERSIONED, [Depends(_named), Depends(_versioned)]),
):
    router.add_api_route(
        _base + "/ready",
        model_ready,
        methods=["GET"],
        summary="Model readiness",
        dependencies=_path_checks,
        responses=_errors(404, 503),
    )
    router.add_api_route(
        _base,
        model_metadata,
        methods=["GET"],
        summary="Model metadata: inputs (one per feature) and outputs",
        dependencies=[*_path_checks[:1], ApiKeyDep, *_path_checks[1:]],
        responses=_errors(401, 404, 503),
    )
    inference.add_api_route(
        _base + "/infer",
        infer,
        methods=["POST"],
        summary="Churn probability, decision and risk band for n customers (columnar inputs)",
        dependencies=[*_path_checks[:1], ApiKeyDep, *_path_checks[1:]],
        responses=_errors(400, 401, 404, 413, 415, 503),
        response_model_exclude_none=True,
    )
