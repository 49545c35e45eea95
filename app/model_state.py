"""The model's life in one worker: loading, then ready or failed, never a crash; then
following the model folder (app/model_reload.py), swapping in verified candidates.

Loading runs in the background so /health answers while a large model loads; /ready
and the prediction routes say why they cannot serve until the model is verified
(card, sha256, library versions, feature contract) and has made one warm-up prediction.
A model that cannot be served leaves the process up, unready, with one log line
saying why: restarting would not fix a tampered file, it would only hide it.

Loading and every scikit-learn prediction run on one dedicated thread per worker.
OpenMP's thread limit (BANKCHURN_INFERENCE_THREADS, applied by ``load_predictor``)
belongs to the thread that sets it, so that thread must also be the one that predicts;
one model call at a time per worker is also what a CPU-bound model wants (scale out
with workers). Small ONNX calls run on the event loop instead (model_loading's
INLINE_MAX_ROWS): onnxruntime's thread count is a session option, whichever thread calls.

A reload never takes the served model away first: the candidate is verified and warmed
up on its own thread, then ``self.model`` is reassigned in one step on the event loop.
Each request takes its model reference once, in a dependency (app.dependencies), so a
request (a whole batch) is scored by one model and answers with that model's version.
The replaced model is not shut down: requests that took it before the swap finish on
it, and its thread ends when the last of them drops the reference (ThreadPoolExecutor
stops its idle thread when the executor is garbage-collected). A refused candidate
changes nothing that is served; when no model is served, its reason becomes /ready's.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from time import perf_counter

from app.errors import ApiError
from app.log import model_logger
from app.metrics import ServiceMetrics
from app.model_loading import LoadedModel
from app.model_reload import CheckTrigger, FolderIdentity, folder_identity, load_candidate
from app.settings import Settings
from bankchurn.artifacts import ModelLoadError

# What /ready and 503 responses say for each reason; the log line has the full story
# (paths, checksums, versions), which is not for clients.
PUBLIC_REASONS: dict[str, str] = {
    "loading": "The model is loading; retry in a few seconds.",
    "card_missing": "No model card was found in the model directory.",
    "card_invalid": "The model card is unreadable or lacks required fields.",
    "artifact_missing": "The model file named by the model card is missing.",
    "checksum_mismatch": "The model file does not match its model card's checksum: it was "
    "modified or replaced after training, so it is not loaded.",
    "version_mismatch": "The model was trained with library versions this service cannot "
    "load safely.",
    "schema_mismatch": "The model was trained on different features than this service accepts.",
    "onnx_unavailable": "The ONNX backend is configured, but the model has no ONNX export that "
    "passed its parity check, or onnxruntime is not installed.",
    "warmup_failed": "The model loaded but its warm-up prediction failed.",
    "load_error": "The model could not be loaded because of an unexpected error.",
    "stopped": "The service is shutting down.",
}
RETRY_AFTER_SECONDS = "5"


class Status(StrEnum):
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"
    STOPPED = "stopped"


class ModelNotReadyError(ApiError):
    """503 with the reason /ready gives; Retry-After only while loading (the one that heals)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            503,
            "model_not_ready",
            PUBLIC_REASONS.get(reason, PUBLIC_REASONS["load_error"]),
            reason=reason,
            headers={"Retry-After": RETRY_AFTER_SECONDS} if reason == "loading" else None,
        )


class ModelState:
    """What one worker knows about its model; changed only on the event loop."""

    def __init__(self, settings: Settings, metrics: ServiceMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.status = Status.LOADING
        self.reason = "loading"
        self.model: LoadedModel | None = None
        self._seen: FolderIdentity | None = None  # the folder last tried, loaded or not
        # Made in start_loading: asyncio objects belong to the loop that runs the lifespan.
        self._trigger: CheckTrigger | None = None
        self._first_attempt: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None

    def require_ready(self) -> LoadedModel:
        if self.model is None:
            raise ModelNotReadyError(self.reason)
        return self.model

    def start_loading(self) -> None:
        """Begin loading, then following the folder, in the background (call from the lifespan)."""
        self.status, self.reason, self.model = Status.LOADING, "loading", None
        self.metrics.model_ready.set(0)
        self._seen = None
        self._trigger = CheckTrigger(self.settings.model_poll_seconds)
        self._first_attempt = asyncio.Event()
        model_logger.info(
            "loading model",
            extra={
                "model_dir": str(self.settings.model_dir),
                "backend": self.settings.backend,
                "poll_seconds": self.settings.model_poll_seconds,
            },
        )
        self._task = asyncio.create_task(
            self._follow(self._trigger, self._first_attempt), name="bankchurn-load-model"
        )
        self._task.add_done_callback(self._after_follow)

    async def first_attempt_done(self) -> None:
        """Wait until the start-up load has either served a model or been refused."""
        if self._first_attempt is not None:
            await self._first_attempt.wait()

    def check_now(self) -> None:
        """Look at the model folder now (SIGHUP), whatever the poll interval."""
        model_logger.info("model check requested", extra={"trigger": "signal"})
        if self._trigger is not None:
            self._trigger.check_now()

    def stop(self) -> None:
        """Called from the lifespan once uvicorn has finished the in-flight requests."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._executor is not None:
            # A load still running in the thread finishes on its own; nothing waits for it.
            self._executor.shutdown(wait=False, cancel_futures=True)
        self.status, self.reason, self.model = Status.STOPPED, "stopped", None
        self.metrics.model_ready.set(0)
        self.metrics.forget_models()

    async def _follow(self, trigger: CheckTrigger, first_attempt: asyncio.Event) -> None:
        """The start-up load, then one check per trigger for as long as the worker runs."""
        try:
            await self._check("startup")
        finally:
            first_attempt.set()
        while True:
            await self._check(await trigger.wait())

    async def _check(self, trigger: str) -> None:
        identity = await asyncio.to_thread(folder_identity, self.settings.model_dir)
        if identity == self._seen:
            return
        self._seen = identity  # tried once per distinct folder: a bad one waits for a change
        startup = trigger == "startup"
        started = perf_counter()
        try:
            candidate = await load_candidate(self.settings, identity)
        except ModelLoadError as error:
            self._refuse(error.reason, str(error), startup, trigger)
            return
        except Exception as error:  # anything unforeseen is a refusal, not a crash
            self._refuse("load_error", f"{type(error).__name__}: {error}", startup, trigger, error)
            return
        self._serve(candidate, identity, trigger, perf_counter() - started)

    def _serve(
        self, model: LoadedModel, identity: FolderIdentity, trigger: str, seconds: float
    ) -> None:
        startup = trigger == "startup"
        previous = self.model
        # The swap: requests that start from here on get the new model.
        self.model, self.status, self.reason = model, Status.READY, "ready"
        self._executor = model.executor
        self.metrics.model_ready.set(1)
        self.metrics.watch_inputs(model.drift)
        if previous is not None:
            self.metrics.forget_model(previous.card.model_name, previous.version, previous.backend)
        self.metrics.model_info.labels(
            model_name=model.card.model_name, version=model.version, backend=model.backend
        ).set(1)
        self.metrics.model_last_load.set(time.time())
        self.metrics.model_candidate_refused.set(0)
        if not startup:
            self.metrics.record_reload("loaded")
        model_logger.info(
            "model ready" if startup else "model reloaded",
            extra={
                "model_version": model.version,
                "previous_version": previous.version if previous is not None else None,
                "model_dir": str(identity.path),
                "trigger": trigger,
                "backend": model.backend,
                "threshold": model.threshold,
                "threshold_source": model.card.serving.threshold_source,
                "load_seconds": round(seconds, 3),
            },
        )

    def _refuse(
        self,
        reason: str,
        message: str,
        startup: bool,
        trigger: str,
        error: BaseException | None = None,
    ) -> None:
        if not startup:
            self.metrics.record_reload("refused")
        extra = {"reason": reason, "model_dir": str(self.settings.model_dir), "trigger": trigger}
        if self.model is not None:  # keep serving what was verified; say why not the new one
            self.metrics.model_candidate_refused.set(1)
            model_logger.error(
                "model reload refused (%s), still serving %s: %s",
                reason,
                self.model.version,
                message,
                exc_info=error,
                extra={**extra, "model_version": self.model.version},
            )
            return
        self.status, self.reason = Status.FAILED, reason
        self.metrics.model_ready.set(0)
        self.metrics.forget_models()
        model_logger.error(
            "model not loaded (%s): %s", reason, message, exc_info=error, extra=extra
        )

    def _after_follow(self, task: asyncio.Task[None]) -> None:
        """The follow loop ending on its own is a bug; say so, and never stay "loading"."""
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        model_logger.error(
            "model follow-up stopped: %s: %s",
            type(error).__name__,
            error,
            exc_info=error,
            extra={"model_dir": str(self.settings.model_dir)},
        )
        if self.model is None:
            self.status, self.reason = Status.FAILED, "load_error"
