"""Property-based fuzzing from the OpenAPI schema (schemathesis): no 5xx, and every
response (status, content type, headers, body) is one the schema documents.

schemathesis needs the schema when tests are collected, so the app is created and its
lifespan started (model loading in the background) when this module is imported.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from prometheus_client import CollectorRegistry

from app.fastapi_app import create_app
from app.settings import Settings
from tooling.net import wait_until
from tooling.paths import MODEL_DIR  # the committed model

EXAMPLES_PER_OPERATION = 100

APP = create_app(Settings(model_dir=MODEL_DIR), registry=CollectorRegistry())
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
calls: list[str] = []
# (path, query, status) of each prediction call, to check the explain parameters were fuzzed.
prediction_calls: list[tuple[str, dict[str, object], int]] = []


def ensure_ready() -> None:
    """Fuzz a ready service (a loading one answers 503, which schemathesis rightly flags).

    schemathesis ends the app's lifespan after each test and starts it again on the next
    call, so each test first makes that call and waits for the model to be loaded again.
    """
    state = APP.state.model_state
    if state.model is not None:
        return
    schema["/health"]["GET"].Case().call()

    def settled() -> bool | None:
        return True if state.model is not None or state.reason != "loading" else None

    wait_until(settled, timeout=30, interval=0.02)
    if state.model is None:
        pytest.fail(f"the model in {MODEL_DIR} is not ready: {state.reason}")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_api_honours_its_openapi_schema(case):
    ensure_ready()
    calls.append(f"{case.method} {case.path}")
    response = case.call_and_validate()
    if case.path.startswith("/predict"):
        prediction_calls.append((case.path, dict(case.query or {}), response.status_code))


def test_fuzzing_reached_every_operation():
    # No calls means the fuzz test above generated nothing (or was deselected): a failure, not a
    # skip, because then nothing was fuzzed. Run this module whole.
    assert calls, "test_api_honours_its_openapi_schema made no call before this check"
    print(f"schemathesis made {len(calls)} calls")
    assert {call.split()[1] for call in calls} == {
        "/health", "/ready", "/predict", "/predict/batch", "/model", "/metrics",
        "/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/{model_name}",
        "/v2/models/{model_name}/ready", "/v2/models/{model_name}/infer",
        "/v2/models/{model_name}/versions/{model_version}",
        "/v2/models/{model_name}/versions/{model_version}/ready",
        "/v2/models/{model_name}/versions/{model_version}/infer",
    }  # fmt: skip


def test_fuzzing_sent_the_explain_parameters():
    """explain and k were generated, and some explained answers came back 200."""
    assert prediction_calls, "test_api_honours_its_openapi_schema made no prediction call"
    explained = [
        (path, status) for path, query, status in prediction_calls
        if str(query.get("explain")).lower() == "true"
    ]  # fmt: skip
    with_k = [query["k"] for _, query, _ in prediction_calls if "k" in query]
    assert {path for path, _ in explained} == {"/predict", "/predict/batch"}
    assert 200 in {status for _, status in explained}
    assert with_k, "no call sent k"
