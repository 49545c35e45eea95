"""Prometheus exposition for this worker, or for all workers in multiprocess mode."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.dependencies import MetricsDep
from app.metrics import CONTENT_TYPE, render

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,  # not PlainTextResponse: errors stay documented as JSON
    responses={
        200: {
            "description": "Metrics in the Prometheus text format.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
def metrics(service_metrics: MetricsDep) -> Response:
    # A plain def: FastAPI runs it in its thread pool, off the event loop, because in
    # multiprocess mode rendering reads every worker's files.
    return Response(render(service_metrics.registry), media_type=CONTENT_TYPE)
