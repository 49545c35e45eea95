"""FastAPI dependencies: how routes reach the settings, the model and the metrics.

Everything is held by the app (``app.state``), built by ``create_app``, so two apps
in one process (as in the tests) never share a model or a metrics registry. Routes
declare what they need with the ``...Dep`` aliases below.

The prediction routes take all they need in one dependency (``ScoringDep``): FastAPI's
resolution of a dependency costs more than the attribute reads it does (docs/performance.md).

They are ``async def`` although they never await: FastAPI runs a plain ``def``
dependency in its thread pool, a thread hop per dependency per request that cost
bankchurn a third of its single-row throughput (docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.metrics import ServiceMetrics
from app.model_loading import LoadedModel
from app.model_state import ModelState
from app.settings import Settings


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_model_state(request: Request) -> ModelState:
    state: ModelState = request.app.state.model_state
    return state


async def get_metrics(request: Request) -> ServiceMetrics:
    metrics: ServiceMetrics = request.app.state.metrics
    return metrics


ModelStateDep = Annotated[ModelState, Depends(get_model_state)]


async def get_loaded_model(request: Request) -> LoadedModel:
    """The ready model, or a 503 that says why there is none (loading, tampered...).
    Tests override this one dependency to stand in for the model on every route."""
    state: ModelState = request.app.state.model_state
    return state.require_ready()


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
LoadedModelDep = Annotated[LoadedModel, Depends(get_loaded_model)]


@dataclass(frozen=True, slots=True)
class Scoring:
    """What a prediction route needs: the ready model, the settings and the metrics."""

    model: LoadedModel
    settings: Settings
    metrics: ServiceMetrics


async def get_scoring(request: Request, model: LoadedModelDep) -> Scoring:
    """The three at once (the model taken once per request: see app.model_state)."""
    return Scoring(model, request.app.state.settings, request.app.state.metrics)


ScoringDep = Annotated[Scoring, Depends(get_scoring)]
