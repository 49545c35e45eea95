"""The model card of the model being served."""

from __future__ import annotations

from fastapi import APIRouter

from app.api_keys import ApiKeyDep
from app.card_schemas import ModelCardResponse
from app.dependencies import LoadedModelDep
from app.errors import documented

router = APIRouter(tags=["model"], dependencies=[ApiKeyDep], responses=documented(401))


@router.get(
    "/model",
    summary="Model card: version, metrics, threshold, feature schema, library versions",
    responses=documented(503),
)
async def model_card(model: LoadedModelDep) -> ModelCardResponse:
    """What was trained, on what, how well, and how this service applies it. Training
    paths, the training config and tracking URIs are left out."""
    return model.card
