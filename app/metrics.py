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

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from app.input_drift import FeatureBinRecorder
from app.log import model_logger
from bankchurn.drift import DriftReference
from bankchurn.schema import Matrix

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# --- HTTP (recorded by app.http_metrics, as prometheus-fastapi-instrumentator named them);
# handler = route template, UNMATCHED_ROUTE for paths that match no route, so a scanner
# cannot explode the label set. Off with BANKCHURN_HTTP_METRICS=false.
HTTP_REQUESTS_TOTAL = "http_requests_total"
HTTP_REQUEST_DURATION_SECONDS = "http_request_duration_seconds"
UNMATCHED_ROUTE = "none"
# --- model
PREDICTIONS_TOTAL = "bankchurn_predictions_total"
CHURN_PROBABILITY = "bankchurn_churn_probability"
INFERENCE_DURATION_SECONDS = "bankchurn_inference_duration_seconds"
BATCH_SIZE = "bankchurn_batch_size"
MODEL_INFO = "bankchurn_model_info"
MODEL_READY = "bankchurn_model_ready"
# --- inputs (feature drift; bins and labels from the card's drift_reference, <= 12 per feature)
FEATURE_BIN_TOTAL = "bankchurn_feature_bin_total"
FEATURE_REFERENCE_RATIO = "bankchurn_feature_reference_ratio"
# --- model reloads (app/model_reload.py): each check that found a different model folder
MODEL_RELOADS_TOTAL = "bankchurn_model_reloads_total"
MODEL_LAST_LOAD_TIMESTAMP_SECONDS = "bankchurn_model_last_load_timestamp_seconds"
MODEL_CANDIDATE_REFUSED = "bankchurn_model_candidate_refused"
ReloadResult = Literal["loaded", "refused"]
RELOAD_RESULTS: tuple[ReloadResult, ...] = ("loaded", "refused")
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


# watch_inputs has not run yet (None means "a model without a drift reference").
_NOTHING_WATCHED = object()


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
            "Customers per batch request (/predict/batch and the V2 infer endpoint).",
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

        self.feature_bins = Counter(
            FEATURE_BIN_TOTAL,
            "Scored customers by feature and bin of the model card's drift reference.",
            ["feature", "bin"],
            registry=registry,
        )
        # livemax: every live worker of one model sets the same shares, and a series per
        # worker (pid label) would multiply the cardinality for nothing; dead workers drop out.
        self.feature_reference = Gauge(
            FEATURE_REFERENCE_RATIO,
            "Share of the training rows in each feature's bin (the PSI reference).",
            ["feature", "bin"],
            multiprocess_mode="livemax",
            registry=registry,
        )
        self._inputs: FeatureBinRecorder | None = None
        self._watched: object = _NOTHING_WATCHED

        # Counted per worker and added up across workers (each worker reloads on its own), so
        # with N workers one promotion reads loaded=N. The start-up load is not a reload.
        self.model_reloads = Counter(
            MODEL_RELOADS_TOTAL,
            "Candidate models checked after start-up, by result: loaded (now served) or "
            "refused (the served model kept; the log says why).",
            ["result"],
            registry=registry,
        )
        self._reloaded = {
            result: self.model_reloads.labels(result=result) for result in RELOAD_RESULTS
        }
        # livemin: the load time of the stalest model any live worker serves, so the merged
        # value moves only once every worker has swapped ("all workers serve a model loaded
        # at or after this"); max would hide a worker still on the old model, and
        # mostrecent would report whichever worker wrote last. Dead workers drop out.
        self.model_last_load = Gauge(
            MODEL_LAST_LOAD_TIMESTAMP_SECONDS,
            "Unix time at which the served model was loaded, verified and warmed up.",
            multiprocess_mode="livemin",
            registry=registry,
        )
        # The refused state itself, for the alert: the counter moves once per bad publish (a
        # refused folder is not retried until it changes), so an alert on its increase would
        # resolve while the bad champion is still published and not served. livemax: 1 while
        # any live worker has refused what the folder now holds.
        self.model_candidate_refused = Gauge(
            MODEL_CANDIDATE_REFUSED,
            "1 while the model folder holds a candidate this service refused, the previous "
            "model still serving; 0 once a candidate loads.",
            multiprocess_mode="livemax",
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

    def watch_inputs(self, reference: DriftReference | None) -> None:
        """Bind the drift bins of a newly loaded model (None: a card without a reference)."""
        if reference is self._watched:
            return
        if self._inputs is not None:
            self._inputs.retire()
        self._inputs, self._watched = None, reference
        if reference is None:
            model_logger.warning(
                "the model card has no drift_reference (trained before feature drift "
                "monitoring): %s and %s are not exported; retrain to get them",
                FEATURE_BIN_TOTAL,
                FEATURE_REFERENCE_RATIO,
            )
            return
        self._inputs = FeatureBinRecorder(reference, self.feature_bins, self.feature_reference)

    def record_inputs(self, reference: DriftReference | None, matrix: Matrix) -> None:
        """Count the scored rows into the bins of the model that scored them."""
        if reference is not self._watched:  # a model swapped in without watch_inputs
            self.watch_inputs(reference)
        if self._inputs is not None:
            self._inputs.record(matrix)

    def record_reload(self, result: ReloadResult) -> None:
        self._reloaded[result].inc()

    def forget_model(self, model_name: str, version: str, backend: str) -> None:
        """Drop a replaced model's info series; in multiprocess mode a worker's file keeps
        every series it ever wrote (prometheus_client cannot remove one), so it reads 0."""
        if is_multiprocess():
            self.model_info.labels(model_name=model_name, version=version, backend=backend).set(0)
        else:
            self.model_info.remove(model_name, version, backend)

    def forget_models(self) -> None:
        """No model is served any more. In multiprocess mode prometheus_client cannot clear
        labels (it only warns); this worker's series go with forget_this_process at exit,
        and a worker reaches here either stopping or without ever having served a model."""
        if not is_multiprocess():
            self.model_info.clear()

    def record_predictions(self, probabilities: list[float], decisions: list[bool]) -> None:
        # One inc per outcome per request (each takes the counter's lock), not one per row.
        churned = sum(decisions)
        if churned:
            self._predicted["churn"].inc(churned)
        if churned < len(decisions):
            self._predicted["no_churn"].inc(len(decisions) - churned)
        for probability in probabilities:
            self.churn_probability.observe(probability)


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
