"""The model's life in one worker: loading, then ready or failed, never a crash.

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
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from time import perf_counter

from app.errors import ApiError
from app.log import model_logger
from app.metrics import ServiceMetrics
from app.model_loading import LoadedModel, load_and_warm_up
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
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None

    def require_ready(self) -> LoadedModel:
        if self.model is None:
            raise ModelNotReadyError(self.reason)
        return self.model

    def start_loading(self) -> None:
        """Begin loading in the background and return at once (call from the lifespan)."""
        self.status, self.reason, self.model = Status.LOADING, "loading", None
        self.metrics.model_ready.set(0)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bankchurn-model")
        model_logger.info(
            "loading model",
            extra={"model_dir": str(self.settings.model_dir), "backend": self.settings.backend},
        )
        self._task = asyncio.create_task(self._load(self._executor), name="bankchurn-load-model")
        self._task.add_done_callback(self._after_load)

    def stop(self) -> None:
        """Called from the lifespan once uvicorn has finished the in-flight requests."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._executor is not None:
            # A load still running in the thread finishes on its own; nothing waits for it.
            self._executor.shutdown(wait=False, cancel_futures=True)
        self.status, self.reason, self.model = Status.STOPPED, "stopped", None
        self.metrics.model_ready.set(0)
        self.metrics.model_info.clear()

    async def _load(self, executor: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        started = perf_counter()
        try:
            model = await loop.run_in_executor(executor, load_and_warm_up, self.settings, executor)
        except ModelLoadError as error:
            self._fail(error.reason, str(error))
            return
        self.model, self.status, self.reason = model, Status.READY, "ready"
        self.metrics.model_ready.set(1)
        self.metrics.watch_inputs(model.drift)
        self.metrics.model_info.labels(
            model_name=model.card.model_name, version=model.version, backend=model.backend
        ).set(1)
        model_logger.info(
            "model ready",
            extra={
                "model_version": model.version,
                "backend": model.backend,
                "threshold": model.threshold,
                "threshold_source": model.card.serving.threshold_source,
                "load_seconds": round(perf_counter() - started, 3),
            },
        )

    def _after_load(self, task: asyncio.Task[None]) -> None:
        """Anything ``_load`` did not anticipate still ends as "failed", never "loading"."""
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        self._fail("load_error", f"{type(error).__name__}: {error}", error)

    def _fail(self, reason: str, message: str, error: BaseException | None = None) -> None:
        self.status, self.reason, self.model = Status.FAILED, reason, None
        self.metrics.model_ready.set(0)
        self.metrics.model_info.clear()
        model_logger.error(
            "model not loaded (%s): %s",
            reason,
            message,
            exc_info=error,
            extra={"reason": reason, "model_dir": str(self.settings.model_dir)},
        )
