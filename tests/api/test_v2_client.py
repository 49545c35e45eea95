"""A real third-party Open Inference Protocol client (tritonclient's HTTP client, from PyPI)
against a real ``uvicorn app.fastapi_app:app``: what Triton and KServe users would run.

Also on the real server: an API key works through that client and never reaches the log.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests.api.uvicorn_server import Server
from tests.api.v2_requests import WIRE_INPUTS, customers

KEY = "a-real-server-key-5f0c8d1e"
NUMPY = {"INT64": np.int64, "FP64": np.float64, "BYTES": np.object_}


@pytest.fixture(scope="module")
def server(model_dir, tmp_path_factory):
    """One server for the read-only tests of this module (a start costs seconds)."""
    log = tmp_path_factory.mktemp("v2-client") / "uvicorn.log"
    server = Server({"BANKCHURN_MODEL_DIR": str(model_dir)}, ["--no-access-log"], log)
    try:
        server.wait_for("/ready", 200)
        yield server
    finally:
        server.close()


def _client(server) -> triton.InferenceServerClient:
    return triton.InferenceServerClient(url=server.url.removeprefix("http://"))


def _inputs(records, binary_data: bool = False) -> list[triton.InferInput]:
    inputs = []
    for name, datatype, key in WIRE_INPUTS:
        tensor = triton.InferInput(name, [len(records)], datatype)
        values = np.array([r[key] for r in records], dtype=NUMPY[datatype])
        tensor.set_data_from_numpy(values, binary_data=binary_data)
        inputs.append(tensor)
    return inputs


def _outputs(*names: str) -> list[triton.InferRequestedOutput]:
    return [triton.InferRequestedOutput(name, binary_data=False) for name in names]


def test_liveness_readiness_and_metadata_through_tritonclient(server, card):
    client = _client(server)

    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready("bankchurn")
    assert client.is_model_ready("bankchurn", model_version=card["model_version"])
    assert not client.is_model_ready("churn")
    assert client.get_server_metadata()["name"] == "bankchurn"
    metadata = client.get_model_metadata("bankchurn")
    assert [(i["name"], i["datatype"]) for i in metadata["inputs"]] == [
        (name, datatype) for name, datatype, _ in WIRE_INPUTS
    ]
    assert metadata["versions"] == [card["model_version"]]


def test_infer_several_customers_through_tritonclient(server, card):
    records = customers(6)
    native = server.http.post("/predict/batch", json={"customers": records}).json()

    result = _client(server).infer(
        "bankchurn",
        _inputs(records),
        request_id="triton-1",
        outputs=_outputs("churn_probability", "churn", "risk_band"),
    )

    expected = native["predictions"]
    probabilities = result.as_numpy("churn_probability")
    assert probabilities.dtype == np.float64
    assert probabilities.tolist() == [p["churn_probability"] for p in expected]
    assert result.as_numpy("churn").tolist() == [p["churn"] for p in expected]
    assert result.as_numpy("risk_band").tolist() == [p["risk_band"] for p in expected]
    response = result.get_response()
    assert response["id"] == "triton-1"
    assert response["model_version"] == card["model_version"]


def test_tritonclient_without_requested_outputs_gets_every_output_as_json(server):
    """It then asks for binary outputs (binary_data_output); the JSON answer still reads."""
    result = _client(server).infer("bankchurn", _inputs(customers(2)))
    assert result.as_numpy("churn_probability").shape == (2,)
    assert result.as_numpy("churn").dtype == np.bool_


def test_tritonclient_sees_the_field_level_error(server):
    records = customers(3)
    records[1] = {**records[1], "age": 130}

    with pytest.raises(InferenceServerException) as refused:
        _client(server).infer("bankchurn", _inputs(records), outputs=_outputs("churn"))

    assert refused.value.status() == "400"
    assert "inputs[3].data[1]: Age should be less than or equal to 120" in refused.value.message()


def test_tritonclient_errors_for_an_unknown_model_and_binary_tensors(server):
    client = _client(server)
    with pytest.raises(InferenceServerException) as unknown:
        client.get_model_metadata("churn")
    assert unknown.value.status() == "404"
    assert "this server serves 'bankchurn'" in unknown.value.message()

    with pytest.raises(InferenceServerException) as binary:
        client.infer("bankchurn", _inputs(customers(1), binary_data=True))
    assert binary.value.status() == "415"
    assert "binary_data=False" in binary.value.message()


def test_an_api_key_works_through_tritonclient_and_is_never_logged(serve, tmp_path):
    """The digests from a file, as the compose and Kubernetes secrets mount them."""
    secret = tmp_path / "api-key-hashes"
    secret.write_text(
        f"# rotation: old and new\n{'0' * 64}\n{hashlib.sha256(KEY.encode()).hexdigest()}\n"
    )
    server = serve(BANKCHURN_API_KEY_HASHES_FILE=str(secret), BANKCHURN_LOG_LEVEL="DEBUG")
    server.wait_for("/ready", 200)
    client = _client(server)
    records = customers(2)

    with pytest.raises(InferenceServerException) as refused:
        client.infer("bankchurn", _inputs(records), outputs=_outputs("churn"))
    assert refused.value.status() == "401"
    with pytest.raises(InferenceServerException):
        client.infer("bankchurn", _inputs(records), headers={"Authorization": "Bearer wrong-key"})
    result = client.infer(
        "bankchurn",
        _inputs(records),
        outputs=_outputs("churn"),
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert result.as_numpy("churn").shape == (2,)
    assert server.http.post("/predict", json=records[0]).status_code == 401
    native = server.http.post(
        "/predict", json=records[0], headers={"Authorization": f"Bearer {KEY}"}
    )
    assert native.status_code == 200
    assert client.is_server_ready()  # probes need no key

    log = server.log()
    # The requests were logged, never the key.
    statuses = {json.loads(line).get("status") for line in log.splitlines() if line.startswith("{")}
    assert {401, 200} <= statuses
    assert KEY not in log
    assert "wrong-key" not in log
    assert "Bearer" not in log
