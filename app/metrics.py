"""Prometheus metrics: every name defined once here, every metric bound to one registry.

The names are a contract with dashboards and alerts (see docs); change them only with
those. ``ServiceMetrics`` takes the registry it registers into, so each app (and each
test) can have its own.

Several workers: when ``PROMETHEUS_MULTIPROC_DIR`` is set (prometheus_client's own
switch; it must name an empty folder, wiped before the server starts), every worker
writes its samples to files there and ``/metrics`` merges all of them, so counters and
histograms add up across workers. Gauges need a merge rule, chosen per gauge below.
"""

from __future__ import annotations

import os
from typing import Literal

from fastapi import FastAPI
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as http_metrics

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# --- HTTP (recorded by prometheus-fastapi-instrumentator); handler = route template,
# "none" for paths that match no route, so a scanner cannot explode the label set.
HTTP_REQUESTS_TOTAL = "http_requests_total"
HTTP_REQUEST_DURATION_SECONDS = "http_request_duration_seconds"
# --- model
PREDICTIONS_TOTAL = "bankchurn_predictions_total"
CHURN_PROBABILITY = "bankchurn_churn_probability"
INFERENCE_DURATION_SECONDS = "bankchurn_inference_duration_seconds"
BATCH_SIZE = "bankchurn_batch_size"
MODEL_INFO = "bankchurn_model_info"
MODEL_READY = "bankchurn_model_ready"
# --- reason codes (?explain=true)
EXPLANATIONS_TOTAL = "bankchurn_explanations_total"
EXPLANATION_DURATION_SECONDS = "bankchurn_explanation_duration_seconds"

Outcome = Literal["churn", "no_churn"]
OUTCOMES: tuple[Outcome, ...] = ("churn", "no_churn")

# From 1 ms: a single-row HTTP round trip here is a few milliseconds.
HTTP_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# 0.05 steps over [0, 1]: the score distribution, compared over time to spot drift.
PROBABILITY_BUCKETS = tuple(round(0.05 * step, 2) for step in range(1, 21))
# From 50 us: the ONNX backend scores one row in 50-90 us, scikit-learn in ~5 ms.
INFERENCE_BUCKETS = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
)  # fmt: skip
BATCH_SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000)
# One explained customer is 1,024 model rows: ~7 ms on ONNX, ~25 ms on sklearn (one core).
EXPLANATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class ServiceMetrics:
    """The model metrics of one app, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.predictions = Counter(
            PREDICTIONS_TOTAL,
            "Customers scored, by decision at the threshold in use.",
            ["outcome"],
            registry=registry,
        )
        # Both series exist from the start, at 0; bound once here, not looked up per customer.
        self._predicted = {
            outcome: self.predictions.labels(outcome=outcome) for outcome in OUTCOMES
        }
        self.churn_probability = Histogram(
            CHURN_PROBABILITY,
            "Predicted churn probabilities (compare windows to detect drift).",
            buckets=PROBABILITY_BUCKETS,
            registry=registry,
        )
        self.inference_duration = Histogram(
            INFERENCE_DURATION_SECONDS,
            "Time spent in the model for one request (single or batch), queueing excluded.",
            buckets=INFERENCE_BUCKETS,
            registry=registry,
        )
        self.batch_size = Histogram(
            BATCH_SIZE,
            "Customers per /predict/batch request.",
            buckets=BATCH_SIZE_BUCKETS,
            registry=registry,
        )
        # Info metrics do not work in multiprocess mode: a gauge set to 1 carries the labels.
        # livemax: one series per model version served by any live worker (no pid label),
        # so a rolling reload shows old and new versions side by side, briefly.
        self.model_info = Gauge(
            MODEL_INFO,
            "The model being served (value is always 1).",
            ["model_name", "version", "backend"],
            multiprocess_mode="livemax",
            registry=registry,
        )
        # livemin: 1 only when every live worker has a verified, warmed-up model; one
        # worker that failed to load pulls the merged value to 0, which is what to alert on.
        self.model_ready = Gauge(
            MODEL_READY,
            "1 when the model is loaded, verified and warmed up; 0 while loading or failed.",
            multiprocess_mode="livemin",
            registry=registry,
        )

        self.explanations = Counter(
            EXPLANATIONS_TOTAL,
            "Customers explained (?explain=true), by inference backend.",
            ["backend"],
            registry=registry,
        )
        self.explanation_duration = Histogram(
            EXPLANATION_DURATION_SECONDS,
            "Time to explain one request's customers (all 1,024 mixes each, one model call).",
            ["backend"],
            buckets=EXPLANATION_BUCKETS,
            registry=registry,
        )

    def record_predictions(self, probabilities: list[float], decisions: list[bool]) -> None:
        for probability, churn in zip(probabilities, decisions, strict=True):
            self._predicted["churn" if churn else "no_churn"].inc()
            self.churn_probability.observe(probability)

    def instrument(self, app: FastAPI) -> None:
        """Add the HTTP metrics middleware to ``app``, recording into this registry."""
        instrumentator = Instrumentator(
            should_group_status_codes=False,  # status="422", not "4xx"
            should_group_untemplated=True,  # unknown paths -> handler="none"
            registry=self.registry,
        )
        instrumentator.add(
            http_metrics.requests(metric_name=HTTP_REQUESTS_TOTAL, registry=self.registry),
            http_metrics.latency(
                metric_name=HTTP_REQUEST_DURATION_SECONDS,
                should_include_status=False,
                buckets=HTTP_LATENCY_BUCKETS,
                registry=self.registry,
            ),
        )
        instrumentator.instrument(app)


def is_multiprocess() -> bool:
    return MULTIPROCESS_ENV in os.environ


def render(registry: CollectorRegistry) -> bytes:
    """The exposition text: this process's registry, or every worker's files merged."""
    if not is_multiprocess():
        return generate_latest(registry)
    merged = CollectorRegistry()
    # prometheus_client.multiprocess has no type annotations (as of 0.26).
    multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
    return generate_latest(merged)


def forget_this_process() -> None:
    """Drop this worker's live gauges from the multiprocess folder as it shuts down."""
    if is_multiprocess():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
