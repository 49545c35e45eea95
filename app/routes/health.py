"""Liveness and readiness: /health says the process answers, /ready that it can predict."""

from __future__ import annotations

from fastapi import APIRouter

from app.dependencies import LoadedModelDep
from app.draining import require_not_draining
from app.errors import documented
from app.schemas import HealthResponse, ReadinessResponse

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: 200 while the process can answer")
async def health() -> HealthResponse:
    """Never looks at the model: a missing or tampered model must not get the process
    restarted in a loop; /ready reports it instead."""
    return HealthResponse()


@router.get(
    "/ready",
    summary="Readiness: 200 once the model is loaded, verified and warmed up",
    responses=documented(503),
)
async def ready(model: LoadedModelDep) -> ReadinessResponse:
    require_not_draining()
    return ReadinessResponse(model_version=model.version, backend=model.backend)


# HEAD answers as GET does, without the body (load balancers and uptime checkers probe
# with it); out of the OpenAPI document, which would otherwise list each twice.
for _path, _endpoint in (("/health", health), ("/ready", ready)):
    router.add_api_route(_path, _endpoint, methods=["HEAD"], include_in_schema=False)
