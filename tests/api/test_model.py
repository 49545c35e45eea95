"""GET /model: the served model's card, without secrets or paths."""

from __future__ import annotations

import json

from bankchurn.schema import FEATURE_NAMES, as_document


def test_model_card_describes_the_served_model(client, card):
    response = client.get("/model")

    assert response.status_code == 200
    body = response.json()
    for key in ("model_name", "model_version", "created_at", "estimator", "threshold",
                "metrics", "versions", "version_policy", "training_data"):  # fmt: skip
        assert body[key] == card[key], key
    assert body["artifacts"] == card["artifacts"]
    assert body["schema"]["target"] == card["schema"]["target"]


def test_model_card_schema_is_the_feature_contract(client):
    features = client.get("/model").json()["schema"]["features"]

    assert [f["name"] for f in features] == list(FEATURE_NAMES)
    for served, contract in zip(features, as_document(), strict=True):
        assert {k: v for k, v in served.items() if v is not None} == contract


def test_model_card_says_how_the_service_applies_the_model(client, card):
    serving = client.get("/model").json()["serving"]

    threshold = card["threshold"]["value"]
    assert serving["backend"] == "sklearn"
    assert serving["threshold"] == threshold
    assert serving["threshold_source"] == "model_card"
    assert serving["risk_bands"] == {
        "high": f"churn_probability >= {threshold}",
        "medium": f"{threshold / 2} <= churn_probability < {threshold}",
        "low": f"churn_probability < {threshold / 2}",
    }


def test_model_card_reports_a_threshold_override(make_client, card):
    serving = make_client(threshold=0.3).get("/model").json()["serving"]

    assert serving["threshold"] == 0.3
    assert serving["threshold_source"] == "override"
    assert serving["risk_bands"] == {
        "high": "churn_probability >= 0.3",
        "medium": "0.15 <= churn_probability < 0.3",
        "low": "churn_probability < 0.15",
    }


def test_model_card_exposes_no_training_config_or_paths(client, model_dir):
    response = client.get("/model")

    assert response.status_code == 200
    assert "config" not in response.json()
    assert "/" not in response.json()["training_data"]["file"]
    assert str(model_dir) not in response.text
    assert "tracking_uri" not in response.text


def test_model_card_shows_the_mlflow_run_and_registry_version(make_client, model_copy):
    card_path = model_copy / "model_card.json"
    card = json.loads(card_path.read_text())
    card["mlflow"] = {
        "run_id": "0123abcd",
        "experiment": "bankchurn",
        "registered_model": "bankchurn",
        "registered_version": "7",
        "aliases": ["champion"],
        "exported_from": "models:/bankchurn@champion",
    }
    card_path.write_text(json.dumps(card))

    body = make_client(model_dir=model_copy).get("/model").json()

    assert body["mlflow"] == {
        "run_id": "0123abcd",
        "registered_model": "bankchurn",
        "registered_version": "7",
        "aliases": ["champion"],
    }


def test_model_card_without_mlflow_says_so(client):
    assert client.get("/model").json()["mlflow"] is None
