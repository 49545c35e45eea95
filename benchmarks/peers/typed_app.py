"""The typed ceiling: FastAPI's own cost for bankchurn's request and response models.

The same server stack as bankchurn (uvicorn, httptools, uvloop, FastAPI) and the same
pydantic models (app.schemas: the strict ``PredictRequest`` and ``BatchRequest`` parsed
from the body, a constant ``ChurnPrediction`` / ``BatchResponse`` validated and serialized
on the way out, as the routes declare them), but no model, middleware, metrics, logging or
guards. What bankchurn costs beyond this is its own work, not the framework's or the
schema's (issue #15); peers/trivial_app.py is the cheaper ceiling that parses nothing.

    uvicorn typed_app:app --app-dir benchmarks/peers   (from the repository root)
"""

from __future__ import annotations

from fastapi import FastAPI

from app.schemas import BatchRequest, BatchResponse, ChurnPrediction, PredictRequest

ANSWER = ChurnPrediction(
    id=None,
    churn_probability=0.1234567890123456,
    churn=False,
    risk_band="low",
    threshold=0.5,
    model_version="0.0.0+bench",
)

app = FastAPI(openapi_url=None)


@app.post("/predict", response_model_exclude_unset=True)
async def predict(customer: PredictRequest) -> ChurnPrediction:
    return ANSWER


@app.post("/predict/batch", response_model_exclude_unset=True)
async def predict_batch(batch: BatchRequest) -> BatchResponse:
    answers = [ANSWER] * len(batch.customers)
    return BatchResponse(model_version="0.0.0+bench", threshold=0.5, predictions=answers)
