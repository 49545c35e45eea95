"""HTTP metrics: ``http_requests_total`` and ``http_request_duration_seconds`` per route template.

The series are those prometheus-fastapi-instrumentator defined for this service (same names,
help texts, labels and buckets: dashboards and alerts are unchanged), recorded by a pure ASGI
middleware that does less per request than the instrumentator's did (docs/performance.md):

- the route template is resolved once per request (``RouteTemplates``) and shared with the
  access log through the request's scope, where before both matched the path against every
  route; templates of paths seen before come from a bounded cache;
- the label children are bound once per (handler, method, status) and reused, instead of a
  ``.labels()`` lookup per metric per request;
- no Request/Response/Headers objects are built around the ASGI messages.

The route matching itself stays the instrumentator's (``get_route_name``: prefixes, mounts,
root_path), so labels are exactly what they were: tests/api/test_metrics.py.
"""

from __future__ import annotations

from time import perf_counter

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from app.metrics import (
    HTTP_LATENCY_BUCKETS,
    HTTP_REQUEST_DURATION_SECONDS,
    HTTP_REQUESTS_TOTAL,
    UNMATCHED_ROUTE,
)
from app.response_start import ResponseStart

# Where the template of the current request is left for the access log (scope["state"]).
ROUTE_TEMPLATE_KEY = "route_template"
# Distinct (method, path) pairs whose template is remembered; unmatched paths never are.
TEMPLATE_CACHE_SIZE = 1024


class RouteTemplates:
    """The route template of a request ("none" if unmatched), resolved once per request.

    One per app (its routes), shared by the access log and the HTTP metrics. The template
    is left in the request's scope, so the second asker reads it; a path that matched a
    route is remembered (routes do not change while serving), so a known path costs a dict
    lookup; unknown paths are matched every time and never kept.
    """

    def __init__(self) -> None:
        self._known: dict[tuple[str, str, str], str] = {}

    def __call__(self, scope: Scope) -> str:
        state = scope.setdefault("state", {})
        template = state.get(ROUTE_TEMPLATE_KEY)
        if template is not None:
            return str(template)
        key = (scope["method"], scope["path"], scope.get("root_path", ""))
        template = self._known.get(key)
        if template is None:
            template = get_route_name(HTTPConnection(scope), should_include_root_path=False)
            if template is None:
                template = UNMATCHED_ROUTE
            elif len(self._known) < TEMPLATE_CACHE_SIZE:
                self._known[key] = template
        state[ROUTE_TEMPLATE_KEY] = template
        return template


class HttpMetrics:
    """The two HTTP metrics, registered in ``registry``, with their children bound once."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            HTTP_REQUESTS_TOTAL,
            "Total number of requests by method, status and handler.",
            ["handler", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            HTTP_REQUEST_DURATION_SECONDS,
            "Duration of HTTP requests in seconds",
            ["handler", "method"],
            buckets=HTTP_LATENCY_BUCKETS,
            registry=registry,
        )
        self._counted: dict[tuple[str, str, int], Counter] = {}
        self._timed: dict[tuple[str, str], Histogram] = {}

    def record(self, handler: str, method: str, status: int, seconds: float) -> None:
        counted = self._counted.get((handler, method, status))
        if counted is None:
            counted = self.requests.labels(handler=handler, method=method, status=str(status))
            self._counted[handler, method, status] = counted
        counted.inc()
        timed = self._timed.get((handler, method))
        if timed is None:
            timed = self._timed[handler, method] = self.duration.labels(handler, method)
        timed.observe(seconds)


class HttpMetricsMiddleware:
    """Count and time every HTTP request by route template, method and status."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, templates: RouteTemplates) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        sent = ResponseStart(send)
        try:
            await self.app(scope, receive, sent)
        finally:
            self.metrics.record(
                self.templates(scope), scope["method"], sent.status, perf_counter() - started
            )
