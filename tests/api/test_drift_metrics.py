"""Feature drift online: every scored customer counted into the card's bins, per feature.

The bins come from the committed card's ``drift_reference``; ``bankchurn.drift`` is the
definition (tests/package/test_drift.py), these tests show the API exports it.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app import metrics as names
from bankchurn.drift import MAX_BINS, reference_from_card
from bankchurn.schema import FEATURES

OLD_CARD = Path(__file__).parent / "fixtures" / "model_card_before_drift.json"


@pytest.fixture
def reference(card):
    found = reference_from_card(card)
    assert found is not None, "the committed card has no drift_reference: run `make train`"
    return found


def _bins_by_feature(metrics, name):
    found: dict[str, dict[str, float]] = {}
    for sample, labels, value in metrics.samples:
        if sample == name:
            found.setdefault(labels["feature"], {})[labels["bin"]] = value
    return found


def test_every_bin_and_its_reference_share_are_exported_before_any_traffic(client, card, scrape):
    metrics = scrape(client)

    counts = _bins_by_feature(metrics, names.FEATURE_BIN_TOTAL)
    shares = _bins_by_feature(metrics, names.FEATURE_REFERENCE_RATIO)
    expected = {f["name"]: dict(zip(f["bins"], f["shares"], strict=True))
                for f in card["drift_reference"]["features"]}  # fmt: skip
    assert shares == expected
    assert counts == {name: dict.fromkeys(bins, 0.0) for name, bins in expected.items()}
    assert list(counts) == [feature.name for feature in FEATURES]
    assert all(len(bins) <= MAX_BINS for bins in counts.values())  # bounded cardinality


def test_each_scored_customer_is_counted_once_per_feature_in_its_bin(
    client, customer, reference, scrape
):
    older = {**customer, "age": 70, "geography": "Spain"}
    assert client.post("/predict", json=customer).status_code == 200
    batch = client.post("/predict/batch", json={"customers": [customer, older] * 10})
    assert batch.status_code == 200
    assert len(batch.json()["predictions"]) == 20

    counts = _bins_by_feature(scrape(client), names.FEATURE_BIN_TOTAL)

    for bins, feature in zip(reference.features, FEATURES, strict=True):
        expected = Counter(
            bins.labels[bins.bin_of(feature.encode(c[feature.name]))]
            for c in [customer] + [customer, older] * 10
        )
        observed = {label: value for label, value in counts[bins.name].items() if value}
        assert observed == expected, bins.name
    assert counts["age"]["[42, 45)"] == 11
    assert counts["age"][">= 53"] == 10
    assert counts["geography"] == {"France": 11, "Germany": 0, "Spain": 10}


def test_refused_requests_are_not_counted(client, customer, scrape):
    assert client.post("/predict", json={**customer, "age": 12}).status_code == 422

    counts = _bins_by_feature(scrape(client), names.FEATURE_BIN_TOTAL)

    assert sum(counts["age"].values()) == 0


def test_get_model_states_the_drift_reference(client, card):
    response = client.get("/model")

    assert response.status_code == 200
    assert response.json()["drift_reference"] == card["drift_reference"]


def test_a_card_from_before_drift_monitoring_still_serves_without_drift_metrics(
    serve, model_copy, customer, scrape
):
    shutil.copy(OLD_CARD, model_copy / "model_card.json")
    assert "drift_reference" not in json.loads(OLD_CARD.read_text())
    server = serve(BANKCHURN_MODEL_DIR=str(model_copy))
    server.wait_for("/ready", 200)

    predictions = [server.http.post("/predict", json=customer) for _ in range(2)]
    model = server.http.get("/model")
    metrics = scrape(server.http)

    assert [p.status_code for p in predictions] == [200, 200]
    assert predictions[0].json()["churn_probability"] > 0
    assert model.status_code == 200
    assert model.json()["drift_reference"] is None
    assert metrics.total(names.PREDICTIONS_TOTAL) == 2
    assert not [n for n, _, _ in metrics.samples if n.startswith("bankchurn_feature_")]
    said = [line for line in server.json_lines() if "drift_reference" in line["message"]]
    assert len(said) == 1, said  # once per loaded model, not once per customer
    assert said[0]["level"] == "WARNING"
    exported = "bankchurn_feature_bin_total and bankchurn_feature_reference_ratio are not exported"
    assert f"{exported}; retrain" in said[0]["message"]


def test_a_malformed_drift_reference_leaves_the_model_unready(make_client, model_copy, card):
    broken = json.loads(json.dumps(card))
    broken["drift_reference"]["features"][3]["edges"].reverse()
    (model_copy / "model_card.json").write_text(json.dumps(broken))
    client = make_client(model_dir=model_copy)

    ready = client.get("/ready")

    assert ready.status_code == 503
    assert ready.json()["error"]["reason"] == "card_invalid"


def test_bins_of_several_workers_add_up_and_the_reference_is_one_series(
    serve_workers, customer, scrape, card
):
    server = serve_workers(2)
    server.wait_for_workers(2)
    requests = 30

    def predict(_: int) -> int:  # a new connection each time: both workers get some
        return server.http.post("/predict", json=customer).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(predict, range(requests)))
    batch = server.http.post("/predict/batch", json={"customers": [customer] * 20})
    metrics = scrape(server.http)

    assert statuses == [200] * requests
    assert batch.status_code == 200
    counts = _bins_by_feature(metrics, names.FEATURE_BIN_TOTAL)
    assert {name: sum(bins.values()) for name, bins in counts.items()} == {
        feature.name: requests + 20 for feature in FEATURES
    }
    assert counts["age"]["[42, 45)"] == requests + 20
    # livemax: one series per bin whatever the number of workers (no pid label), the card's value.
    shares = [(labels, value) for n, labels, value in metrics.samples
              if n == names.FEATURE_REFERENCE_RATIO]  # fmt: skip
    assert all(set(labels) == {"feature", "bin"} for labels, _ in shares)
    assert len(shares) == sum(len(f["bins"]) for f in card["drift_reference"]["features"])
    age = card["drift_reference"]["features"][3]
    assert metrics.value(names.FEATURE_REFERENCE_RATIO, feature="age", bin=age["bins"][0]) == \
        age["shares"][0]  # fmt: skip


def test_a_new_model_with_other_bins_replaces_the_reference_series(card, reference):
    """Hot reload or restart with a retrained model: the reference gauge shows the new bins
    only; the old bins' counters stay (counters never go back) and their rate falls to 0."""
    from prometheus_client import CollectorRegistry

    from app.metrics import ServiceMetrics
    from bankchurn.schema import EXAMPLE_CUSTOMER, encode_records

    other = json.loads(json.dumps(card))
    age = other["drift_reference"]["features"][3]
    age["edges"], age["bins"], age["shares"] = [40.0], ["< 40", ">= 40"], [0.5, 0.5]
    retrained = reference_from_card(other)
    registry = CollectorRegistry()
    metrics = ServiceMetrics(registry)
    matrix = encode_records([EXAMPLE_CUSTOMER])

    metrics.record_inputs(reference, matrix)
    metrics.record_inputs(retrained, matrix)

    def value(name, **labels):
        return registry.get_sample_value(name, {"feature": "age", **labels})

    assert value(names.FEATURE_REFERENCE_RATIO, bin=">= 40") == 0.5
    assert value(names.FEATURE_REFERENCE_RATIO, bin="[42, 45)") is None
    assert value(names.FEATURE_BIN_TOTAL, bin=">= 40") == 1
    assert value(names.FEATURE_BIN_TOTAL, bin="[42, 45)") == 1
