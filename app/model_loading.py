"""Loading a model for serving: verify it, check it fits this service, warm it up.

``load_predictor`` (bankchurn) checks the card, the artifact's sha256 and the library
versions before unpickling anything; on top of that the API checks that the card holds
everything GET /model serves, then bankchurn.predictor's feature contract (trained on
this service's features: names, kinds, category order) and warm-up (one real prediction
works). Every refusal is a
``ModelLoadError`` whose ``reason`` /ready reports.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from pydantic import ValidationError

from app.card_schemas import ModelCardResponse
from app.risk_bands import describe_risk_bands
from app.settings import Settings
from bankchurn.artifacts import CARD_FILE, ModelLoadError
from bankchurn.drift import DriftReference, DriftReferenceError, reference_from_card
from bankchurn.predictor import (
    Predictor,
    Probabilities,
    check_feature_contract,
    load_predictor,
    warm_up,
)
from bankchurn.schema import Matrix

# Most rows scored on the event loop itself instead of the inference thread. The hop to the
# thread and back costs more than onnxruntime needs for a few rows (about 25 us for one),
# and on one core the thread only competes with the loop: a batch of 100 spent ~10 % less
# CPU inline (docs/performance.md). The limit keeps the loop held by the model no longer
# than validating the same rows already holds it (100 rows: ~0.5 ms each), so other
# requests wait no longer than they do behind any batch. scikit-learn needs ~6 ms even for
# one row, so it always goes to the thread.
INLINE_MAX_ROWS: dict[str, int] = {"onnx": 128, "sklearn": 0}


@dataclass(frozen=True)
class LoadedModel:
    """A verified, warmed-up model and how this service applies it."""

    predictor: Predictor
    card: ModelCardResponse
    threshold: float
    backend: str
    executor: ThreadPoolExecutor
    # The card's feature bins for drift metrics; None for a card trained before them.
    drift: DriftReference | None = None

    @property
    def version(self) -> str:
        return self.card.model_version

    async def predict_proba(self, matrix: Matrix) -> tuple[Probabilities, float]:
        """Probabilities and the seconds spent in the model (inline or on the inference thread)."""
        if len(matrix) <= INLINE_MAX_ROWS.get(self.backend, 0):
            return _timed_predict(self.predictor, matrix)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, _timed_predict, self.predictor, matrix)


def _timed_predict(predictor: Predictor, matrix: Matrix) -> tuple[Probabilities, float]:
    started = perf_counter()
    probabilities = predictor.predict_proba(matrix)
    return probabilities, perf_counter() - started


def load_and_warm_up(settings: Settings, executor: ThreadPoolExecutor) -> LoadedModel:
    """Load, verify and warm up the model; runs on the inference thread."""
    predictor = load_predictor(
        settings.model_dir, backend=settings.backend, threads=settings.inference_threads
    )
    card = serving_card(predictor.card, settings)
    check_feature_contract(predictor.card)
    drift = drift_reference(predictor.card)
    warm_up(predictor)
    return LoadedModel(predictor, card, card.serving.threshold, settings.backend, executor, drift)


def drift_reference(card: dict[str, Any]) -> DriftReference | None:
    try:
        return reference_from_card(card)
    except DriftReferenceError as error:
        raise ModelLoadError("card_invalid", str(error)) from None


def serving_card(card: dict[str, Any], settings: Settings) -> ModelCardResponse:
    """The card as GET /model serves it, plus how this service applies the model."""
    card_threshold = card.get("threshold")
    card_value = card_threshold.get("value") if isinstance(card_threshold, dict) else None
    threshold = settings.threshold if settings.threshold is not None else card_value
    document = {
        **card,
        "serving": {
            "backend": settings.backend,
            "threshold": threshold,
            "threshold_source": "model_card" if settings.threshold is None else "override",
            "risk_bands": describe_risk_bands(threshold) if isinstance(threshold, float) else {},
        },
    }
    try:
        return ModelCardResponse.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, item['loc']))}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
        raise ModelLoadError(
            "card_invalid",
            f"{CARD_FILE} in {settings.model_dir} lacks what the API serves ({problems}); "
            "retrain with this release",
        ) from None
