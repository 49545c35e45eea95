"""The Open Inference Protocol (V2) endpoints in process: answers, metadata, metrics, limits.

Every validation error has its own test in test_v2_errors.py; a real third-party client
against a real server is test_v2_client.py.
"""

from __future__ import annotations

import math

import pytest

from app import metrics as names
from bankchurn.schema import FEATURES
from tests.api.model_shelf import ModelShelf
from tests.api.v2_requests import INFER, WIRE_INPUTS, customers, v2_body
from tooling.net import wait_until


def test_server_liveness_readiness_and_metadata(client):
    assert client.get("/v2/health/live").json() == {"live": True}
    ready = client.get("/v2/health/ready")
    assert (ready.status_code, ready.json()) == (200, {"ready": True})
    metadata = client.get("/v2").json()
    assert metadata == {"name": "bankchurn", "version": client.app.version, "extensions": []}


def test_model_readiness_and_metadata_list_one_input_per_feature(client, card):
    ready = client.get("/v2/models/bankchurn/ready")
    assert (ready.status_code, ready.json()) == (200, {"name": "bankchurn", "ready": True})

    metadata = client.get("/v2/models/bankchurn").json()

    assert metadata["name"] == "bankchurn"
    assert metadata["versions"] == [card["model_version"]]
    assert metadata["platform"] == "sklearn"
    assert [(i["name"], i["datatype"], i["shape"]) for i in metadata["inputs"]] == [
        (name, datatype, [-1]) for name, datatype, _ in WIRE_INPUTS
    ]
    assert [i["name"] for i in metadata["inputs"]] == [f.column for f in FEATURES]
    assert metadata["outputs"] == [
        {"name": "churn_probability", "datatype": "FP64", "shape": [-1]},
        {"name": "churn", "datatype": "BOOL", "shape": [-1]},
        {"name": "risk_band", "datatype": "BYTES", "shape": [-1]},
    ]


def test_infer_scores_several_customers_as_the_native_batch_does(client, card):
    records = customers(5)
    native = client.post("/predict/batch", json={"customers": records}).json()

    response = client.post(INFER, json=v2_body(records, id="req-7"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_name"] == "bankchurn"
    assert body["model_version"] == card["model_version"] == native["model_version"]
    assert body["id"] == "req-7"
    assert body["parameters"] == {"threshold": native["threshold"]}
    outputs = {o["name"]: o for o in body["outputs"]}
    assert [o["name"] for o in body["outputs"]] == ["churn_probability", "churn", "risk_band"]
    assert {(o["datatype"], tuple(o["shape"])) for o in body["outputs"]} == {
        ("FP64", (5,)), ("BOOL", (5,)), ("BYTES", (5,))
    }  # fmt: skip
    expected = native["predictions"]
    assert outputs["churn_probability"]["data"] == [p["churn_probability"] for p in expected]
    assert outputs["churn"]["data"] == [p["churn"] for p in expected]
    assert outputs["risk_band"]["data"] == [p["risk_band"] for p in expected]
    assert len(set(outputs["churn_probability"]["data"])) == 5  # five different customers


def test_infer_without_an_id_leaves_it_out(client):
    body = client.post(INFER, json=v2_body(customers(1))).json()
    assert "id" not in body


def test_requested_outputs_come_back_alone_and_in_the_order_asked(client):
    request = v2_body(customers(2), outputs=[{"name": "churn"}, {"name": "churn_probability"}])
    body = client.post(INFER, json=request).json()
    assert [o["name"] for o in body["outputs"]] == ["churn", "churn_probability"]


def test_the_pandas_codec_form_of_mlserver_is_accepted(client):
    """[n, 1] shapes, nested data and content_type parameters, as MLServer's PandasCodec sends."""
    records = customers(3)
    plain = client.post(INFER, json=v2_body(records)).json()
    request = v2_body(records, parameters={"content_type": "pd"})
    for tensor in request["inputs"]:
        tensor["shape"] = [3, 1]
        tensor["data"] = [[value] for value in tensor["data"]]
        if tensor["datatype"] == "BYTES":
            tensor["parameters"] = {"content_type": "str"}

    response = client.post(INFER, json=request)

    assert response.status_code == 200, response.text
    assert response.json()["outputs"] == plain["outputs"]


def test_whole_numbers_may_come_as_floats_and_any_numeric_datatype(client):
    records = customers(2)
    plain = client.post(INFER, json=v2_body(records)).json()
    request = v2_body(records)
    for tensor in request["inputs"]:
        if tensor["datatype"] == "INT64":
            tensor["datatype"], tensor["data"] = "FP32", [float(v) for v in tensor["data"]]
        elif tensor["datatype"] == "FP64" and all(float(v).is_integer() for v in tensor["data"]):
            tensor["datatype"], tensor["data"] = "INT32", [int(v) for v in tensor["data"]]

    assert client.post(INFER, json=request).json()["outputs"] == plain["outputs"]


def test_a_version_path_serves_the_served_version_and_only_it(client, card):
    version = card["model_version"]
    base = f"/v2/models/bankchurn/versions/{version}"
    assert client.get(base + "/ready").json() == {"name": "bankchurn", "ready": True}
    assert client.get(base).json()["versions"] == [version]
    assert client.post(base + "/infer", json=v2_body(customers(1))).status_code == 200

    other = client.post("/v2/models/bankchurn/versions/1/infer", json=v2_body(customers(1)))

    assert other.status_code == 404
    assert other.json() == {
        "error": f"Version '1' of 'bankchurn' is not served; the served version is "
        f"{version!r} (or leave /versions/... out)."
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/models/churn"),
        ("GET", "/v2/models/churn/ready"),
        ("POST", "/v2/models/churn/infer"),
    ],
)
def test_an_unknown_model_is_404_in_the_protocols_shape(client, method, path):
    response = client.request(method, path, json=v2_body(customers(1)))
    assert response.status_code == 404
    assert response.json() == {"error": "No model named 'churn'; this server serves 'bankchurn'."}


def test_v2_traffic_is_counted_in_the_same_metrics(client, scrape):
    assert client.post(INFER, json=v2_body(customers(3))).status_code == 200
    assert client.post(INFER, json={"inputs": []}).status_code == 400

    metrics = scrape(client)

    handler = "/v2/models/{model_name}/infer"
    assert metrics.value(names.HTTP_REQUESTS_TOTAL, handler=handler, method="POST",
                         status="200") == 1  # fmt: skip
    assert metrics.value(names.HTTP_REQUESTS_TOTAL, handler=handler, method="POST",
                         status="400") == 1  # fmt: skip
    assert metrics.total(names.PREDICTIONS_TOTAL) == 3
    assert metrics.value(f"{names.CHURN_PROBABILITY}_count") == 3
    assert metrics.value(f"{names.INFERENCE_DURATION_SECONDS}_count") == 1
    assert metrics.value(f"{names.BATCH_SIZE}_sum") == 3
    # Each customer counted once per feature in the drift bins, as on /predict.
    per_feature: dict[str, float] = {}
    for sample, labels, value in metrics.samples:
        if sample == names.FEATURE_BIN_TOTAL:
            per_feature[labels["feature"]] = per_feature.get(labels["feature"], 0) + value
    assert per_feature == {feature.name: 3 for feature in FEATURES}


def test_the_batch_limit_is_the_native_one(make_client):
    client = make_client(max_batch=2)
    assert client.post(INFER, json=v2_body(customers(2))).status_code == 200

    response = client.post(INFER, json=v2_body(customers(3)))

    assert response.status_code == 413
    assert response.json() == {
        "error": "The inputs hold 3 customers; at most 2 are accepted per request "
        "(BANKCHURN_MAX_BATCH). Split them into smaller requests."
    }


def test_a_body_over_the_size_limit_is_413_in_the_protocols_shape(make_client):
    client = make_client(max_body_bytes=2048)
    response = client.post(INFER, json=v2_body(customers(40)))
    assert response.status_code == 413
    assert response.json() == {
        "error": "Request body is larger than the limit of 2048 bytes; send smaller batches."
    }


def test_an_unready_model_is_503_in_the_protocols_shape(make_client, model_copy):
    (model_copy / "model.joblib").write_bytes(b"tampered")
    client = make_client(model_dir=model_copy)

    for method, path in (("GET", "/v2/health/ready"), ("GET", "/v2/models/bankchurn/ready"),
                         ("POST", INFER)):  # fmt: skip
        response = client.request(method, path, json=v2_body(customers(1)))
        assert response.status_code == 503
        assert set(response.json()) == {"error"}
        assert "checksum" in response.json()["error"]
    assert client.get("/v2/health/live").json() == {"live": True}


def test_probabilities_are_plain_json_numbers(client):
    body = client.post(INFER, json=v2_body(customers(2))).json()
    [probabilities] = [o["data"] for o in body["outputs"] if o["name"] == "churn_probability"]
    assert all(isinstance(p, float) and 0 <= p <= 1 and math.isfinite(p) for p in probabilities)


def test_openapi_documents_the_v2_paths(client):
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    for path in ("/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/{model_name}",
                 "/v2/models/{model_name}/ready", "/v2/models/{model_name}/infer",
                 "/v2/models/{model_name}/versions/{model_version}/infer"):  # fmt: skip
        assert path in paths, path
    infer = paths["/v2/models/{model_name}/infer"]["post"]
    assert set(infer["responses"]) >= {"200", "400", "401", "404", "413", "415", "503"}
    assert infer["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/V2ErrorResponse"
    }


def test_after_a_reload_v2_serves_and_describes_the_new_model(make_client, model_dir, tmp_path):
    """The native reload semantics: the swap is seen by /v2 too, each answer naming its model."""
    shelf = ModelShelf(model_dir, tmp_path / "models")
    shelf.add("v1")
    shelf.publish("v1")
    client = make_client(model_dir=shelf.link, model_poll_seconds=0.05)
    assert client.post(INFER, json=v2_body(customers(2))).json()["model_version"] == "v1"

    shelf.add("v2")
    shelf.publish("v2")
    swapped = wait_until(
        lambda: client.get("/v2/models/bankchurn").json()["versions"] == ["v2"] or None,
        timeout=30,
        interval=0.05,
    )
    assert swapped, "v2 was not swapped in"

    assert client.post(INFER, json=v2_body(customers(2))).json()["model_version"] == "v2"
    assert client.get("/v2/models/bankchurn/versions/v2/ready").status_code == 200
    assert client.get("/v2/models/bankchurn/versions/v1/ready").status_code == 404
