"""The FastAPI application: created and wired here, implemented elsewhere.

Serve with ``uvicorn app.fastapi_app:app --no-access-log`` (the app writes its own
access log). ``create_app`` builds independent apps for tests.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.telemetry import TelemetryConfig
from fastapi_offline import FastAPIOffline
from prometheus_client import REGISTRY, CollectorRegistry

from app.api_keys import document_only_when_on
from app.draining import DrainMiddleware
from app.errors import REQUEST_ID_HEADER, documented, install_error_handlers
from app.http_metrics import HttpMetrics, HttpMetricsMiddleware, RouteTemplates
from app.lifespan import lifespan
from app.metrics import ServiceMetrics
from app.middleware import (
    BodySizeLimitMiddleware,
    DocsContentSecurityPolicyMiddleware,
    RequestContextMiddleware,
)
from app.model_state import ModelState
from app.predict_fast_path import PredictFastPath
from app.request_guards import RequestGuardMiddleware
from app.routes import health, metrics, model, predict, v2
from app.settings import Settings, get_settings

_NO_OPENTELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def _service_version() -> str:
    try:
        return version("bankchurn")
    except PackageNotFoundError:  # a source tree on PYTHONPATH, not an installed package
        return "0+unknown"


def create_app(
    settings: Settings | None = None, registry: CollectorRegistry | None = None
) -> FastAPI:
    settings = settings or get_settings()
    service_metrics = ServiceMetrics(registry or REGISTRY)
    # FastAPIOffline serves Swagger UI and ReDoc from its wheel: /docs works offline.
    app = FastAPIOffline(
        title="bankchurn",
        version=_service_version(),
        description="Predicts whether a bank customer will leave, from the model in models/.",
        lifespan=lifespan,
        # Swagger UI's default validatorUrl sends the spec's address to validator.swagger.io
        # for a badge: off, so /docs makes no request outside this server.
        swagger_ui_parameters={"validatorUrl": None},
        # The service's telemetry is Prometheus (/metrics); FastAPI's OpenTelemetry is opt-in.
        telemetry=None if settings.opentelemetry else _NO_OPENTELEMETRY,
    )
    app.state.settings = settings
    app.state.metrics = service_metrics
    app.state.model_state = ModelState(settings, service_metrics)
    # Read once (the hashes file too): an empty set means API keys are off (app/api_keys.py).
    app.state.api_key_hashes = settings.accepted_key_hashes()
    install_error_handlers(app)
    # Middleware added last runs first: request id -> drain (Connection: close) -> HTTP
    # metrics -> CORS -> docs CSP -> body timeout and in-flight limit -> body size limit
    # -> the prediction routes' fast path.
    if settings.predict_fast_path:
        app.add_middleware(PredictFastPath, service=app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        RequestGuardMiddleware,
        body_timeout=settings.body_timeout_seconds,
        max_in_flight=settings.max_requests_in_flight,
    )
    app.add_middleware(DocsContentSecurityPolicyMiddleware, paths=frozenset({"/docs", "/redoc"}))
    if settings.cors_origins:  # closed unless origins are configured
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
        )
    # One template per request, resolved by whichever asks first (the metrics, inside).
    templates = RouteTemplates()
    if settings.http_metrics:
        http_metrics = HttpMetrics(service_metrics.registry)
        app.add_middleware(HttpMetricsMiddleware, metrics=http_metrics, templates=templates)
    app.add_middleware(DrainMiddleware)
    app.add_middleware(
        RequestContextMiddleware, templates=templates, access_log=settings.access_log
    )
    routers = (health.router, predict.router, model.router, metrics.router, v2.router, v2.inference)
    for router in routers:
        app.include_router(router, responses=documented(500))
    document_only_when_on(app, bool(app.state.api_key_hashes))
    return app


app = create_app()
