"""The ceiling: the cheapest POST endpoint on bankchurn's own server stack.

FastAPI on uvicorn with httptools and uvloop, exactly as bankchurn runs, but no
validation, no model, no middleware: it reads the body and returns a constant answer
of the same size as bankchurn's single-row response. Whatever bankchurn costs beyond
this is its own work (validation, inference, metrics, logging).

    uvicorn benchmarks.peers.trivial_app:app
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

ANSWER = (
    b'{"id":null,"churn_probability":0.1234567890123456,"churn":false,'
    b'"risk_band":"low","threshold":0.5,"model_version":"0.0.0+bench"}'
)

app = FastAPI(openapi_url=None)


@app.post("/predict")
async def predict(request: Request) -> Response:
    await request.body()
    return Response(ANSWER, media_type="application/json")
