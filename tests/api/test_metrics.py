"""GET /metrics: exact values after known traffic, route templates, isolated registries."""

from __future__ import annotations

import pytest

from app import metrics as names


def test_metrics_count_exactly_the_predictions_made(client, customer, scrape):
    for _ in range(3):
        assert client.post("/predict", json=customer).status_code == 200

    metrics = scrape(client)

    assert metrics.total(names.PREDICTIONS_TOTAL) == 3
    assert metrics.value(names.HTTP_REQUESTS_TOTAL, handler="/predict", method="POST",
                         status="200") == 3  # fmt: skip
    assert metrics.value(f"{names.CHURN_PROBABILITY}_count") == 3
    assert metrics.value(f"{names.INFERENCE_DURATION_SECONDS}_count") == 3
    assert metrics.value(f"{names.HTTP_REQUEST_DURATION_SECONDS}_count", handler="/predict",
                         method="POST") == 3  # fmt: skip


def test_metrics_split_predictions_by_outcome(make_client, customer, scrape):
    client = make_client(threshold=0.000001)  # everyone churns at this threshold
    client.post("/predict", json=customer)

    metrics = scrape(client)

    assert metrics.value(names.PREDICTIONS_TOTAL, outcome="churn") == 1
    assert metrics.value(names.PREDICTIONS_TOTAL, outcome="no_churn") == 0
    assert {"outcome": "no_churn"} in metrics.labels(names.PREDICTIONS_TOTAL)  # exists at 0


def test_metrics_record_batches(client, customer, scrape):
    client.post("/predict/batch", json={"customers": [customer] * 4})

    metrics = scrape(client)

    assert metrics.total(names.PREDICTIONS_TOTAL) == 4
    assert metrics.value(f"{names.BATCH_SIZE}_count") == 1
    assert metrics.value(f"{names.BATCH_SIZE}_sum") == 4
    assert metrics.value(f"{names.INFERENCE_DURATION_SECONDS}_count") == 1  # one model call


def test_metrics_label_errors_with_their_status(client, customer, scrape):
    client.post("/predict", json={**customer, "age": "42"})

    metrics = scrape(client)

    assert metrics.value(names.HTTP_REQUESTS_TOTAL, handler="/predict", method="POST",
                         status="422") == 1  # fmt: skip
    assert metrics.total(names.PREDICTIONS_TOTAL) == 0


def test_metrics_group_unknown_paths_under_none(client, scrape):
    client.get("/customers/12345")
    client.get("/wp-admin.php")

    metrics = scrape(client)

    assert metrics.value(names.HTTP_REQUESTS_TOTAL, handler="none", method="GET",
                         status="404") == 2  # fmt: skip
    handlers = {labels["handler"] for labels in metrics.labels(names.HTTP_REQUESTS_TOTAL)}
    assert handlers == {"/ready", "none"}


def test_metrics_show_the_ready_model(client, card, scrape):
    metrics = scrape(client)

    assert metrics.value(names.MODEL_READY) == 1
    assert metrics.labels(names.MODEL_INFO) == [
        {"model_name": card["model_name"], "version": card["model_version"], "backend": "sklearn"}
    ]
    assert metrics.total(names.MODEL_INFO) == 1


def test_metrics_show_a_broken_model_as_not_ready(make_client, model_copy, scrape):
    (model_copy / "model.joblib").unlink()

    metrics = scrape(make_client(model_dir=model_copy))

    assert metrics.value(names.MODEL_READY) == 0
    assert metrics.labels(names.MODEL_INFO) == []


@pytest.mark.parametrize(
    ("histogram", "first_bucket"),
    [
        (names.HTTP_REQUEST_DURATION_SECONDS, "0.001"),
        (names.INFERENCE_DURATION_SECONDS, "5e-05"),
        (names.CHURN_PROBABILITY, "0.05"),
        (names.BATCH_SIZE, "1.0"),
    ],
)
def test_histogram_buckets_start_where_the_contract_says(
    client, customer, scrape, histogram, first_bucket
):
    client.post("/predict", json=customer)

    buckets = [labels["le"] for labels in scrape(client).labels(f"{histogram}_bucket")]

    assert buckets[0] == first_bucket
    assert buckets[-1] == "+Inf"


def test_probability_buckets_step_by_five_hundredths():
    assert tuple(round(0.05 * i, 2) for i in range(1, 21)) == names.PROBABILITY_BUCKETS


def test_each_app_has_its_own_registry(make_client, customer, scrape):
    busy, idle = make_client(), make_client()
    busy.post("/predict", json=customer)

    assert scrape(busy).total(names.PREDICTIONS_TOTAL) == 1
    assert scrape(idle).total(names.PREDICTIONS_TOTAL) == 0


def test_http_metrics_can_be_switched_off_and_the_model_metrics_stay(make_client, customer,
                                                                      scrape):  # fmt: skip
    client = make_client(http_metrics=False)
    assert client.post("/predict", json=customer).status_code == 200

    metrics = scrape(client)

    assert metrics.labels(names.HTTP_REQUESTS_TOTAL) == []
    assert metrics.labels(f"{names.HTTP_REQUEST_DURATION_SECONDS}_count") == []
    assert metrics.total(names.PREDICTIONS_TOTAL) == 1


def test_the_handler_label_is_the_template_the_instrumentator_library_resolves(client, scrape):
    """Templates are resolved once and cached: the cached label of every route, asked twice, and
    of a 405, is what prometheus-fastapi-instrumentator's get_route_name gives for the path."""
    from prometheus_fastapi_instrumentator.routing import get_route_name
    from starlette.requests import HTTPConnection

    paths = ["/health", "/ready", "/model", "/docs", "/openapi.json"]
    for path in paths * 2:
        assert client.get(path).status_code == 200
    assert client.get("/predict").status_code == 405

    handlers = {labels["handler"] for labels in scrape(client).labels(names.HTTP_REQUESTS_TOTAL)}

    expected = {
        get_route_name(HTTPConnection({"type": "http", "app": client.app, "method": method,
                                       "path": path, "root_path": "", "headers": []}),
                       should_include_root_path=False)
        for method, path in [*(("GET", p) for p in paths), ("GET", "/predict")]
    }  # fmt: skip
    assert handlers == expected  # /metrics counts itself only after answering
    assert "/predict" in handlers
