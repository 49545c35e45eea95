"""The plain answers are serialised straight from the scores (app.scoring.Scores): the bytes
must be those of the response models, for the committed model's real scores and for the
floats whose text is easiest to get wrong."""

from __future__ import annotations

import pytest

from app.schemas import BatchResponse, ChurnPrediction
from app.scoring import Scores

AWKWARD = [0.0, 1.0, 1e-7, 0.1, 1 / 3, 5e-324, 0.9999999999999999, 2.5e-5, 0.32586249682]


def _as_models(scores: Scores) -> tuple[list[bytes], bytes]:
    """What the routes sent before: one model per prediction, dumped without unset fields."""
    predictions = [
        ChurnPrediction(
            id=client_id,
            churn_probability=probability,
            churn=churn,
            risk_band=prediction.risk_band,
            threshold=scores.threshold,
            model_version=scores.model_version,
        )
        for client_id, probability, churn, prediction in zip(
            scores.ids, scores.probabilities, scores.decisions, scores.predictions(), strict=True
        )
    ]
    batch = BatchResponse(
        model_version=scores.model_version, threshold=scores.threshold, predictions=predictions
    )
    singles = [p.model_dump_json(exclude_unset=True).encode() for p in predictions]
    return singles, batch.model_dump_json(exclude_unset=True).encode()


def _one(scores: Scores, index: int) -> Scores:
    return Scores(
        scores.ids[index : index + 1],
        scores.probabilities[index : index + 1],
        scores.decisions[index : index + 1],
        scores.threshold,
        scores.model_version,
    )


@pytest.mark.parametrize("threshold", [0.3258624968259597, 0.5])
def test_awkward_floats_serialise_as_the_models_do(threshold):
    ids = [None, "c-1", "x" * 64, "a.b:c-d_e", None, "0", None, "z", "y"]
    scores = Scores(
        ids, AWKWARD, [p >= threshold for p in AWKWARD], threshold, "20261201.232737-e30f6d5"
    )
    singles, batch = _as_models(scores)
    assert scores.batch_json() == batch
    assert [_one(scores, i).single_json() for i in range(len(ids))] == singles
    assert BatchResponse.model_validate_json(scores.batch_json()).threshold == threshold


def test_the_committed_models_scores_serialise_as_the_models_do(make_client, customer):
    """A thousand real scores, through the real route, checked against the models' bytes."""
    client = make_client()
    customers = [
        {
            **customer,
            "age": 18 + n * 7 % 75,
            "balance": round(n * 977.31 % 250_000, 2),
            "num_of_products": 1 + n % 4,
            "is_active_member": n // 4 % 2,
            "id": f"c-{n}" if n % 3 else None,
        }
        for n in range(1_000)
    ]
    response = client.post("/predict/batch", json={"customers": customers})
    assert response.status_code == 200
    answer = BatchResponse.model_validate_json(response.content)
    scores = Scores(
        [p.id for p in answer.predictions],
        [p.churn_probability for p in answer.predictions],
        [p.churn for p in answer.predictions],
        answer.threshold,
        answer.model_version,
    )
    assert len({p.churn_probability for p in answer.predictions}) > 100
    singles, batch = _as_models(scores)
    assert response.content == batch
    single = client.post("/predict", json=customers[1])
    assert single.content == singles[1]
