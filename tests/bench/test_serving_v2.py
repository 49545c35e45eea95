"""The bankchurn-v2 contestant: the serving benchmark measures bankchurn's Open Inference
Protocol endpoint for real (one-second runs), after its answers passed the parity gate.

Not a timing test; the numbers are docs/benchmarks.md's, from `make bench`.
"""

from __future__ import annotations

import json

import pytest

from benchmarks.serving.adapters import (
    BATCH_ROWS,
    bankchurn_v2_payload,
    bankchurn_v2_probabilities,
    benchmark_customers,
)
from benchmarks.serving.contestants import contestants
from benchmarks.serving.measure import PARITY_TOLERANCE
from tests.bench.benchtools import short_report


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench-v2") / "benchmarks.md"
    # The layer-by-layer costs are test_serving's business: they do not involve this contestant.
    return short_report(out, ("bankchurn-v2",), "--skip-ablation")


def test_the_v2_contestant_sits_next_to_mlservers():
    names = [c.name for c in contestants()]
    assert names.index("mlserver") - names.index("bankchurn-v2") == 1
    [v2] = [c for c in contestants() if c.name == "bankchurn-v2"]
    assert v2.env["BANKCHURN_BACKEND"] == "sklearn"  # MLServer's runtime: only the server differs


def test_bankchurn_v2_was_measured_on_both_payloads_with_no_errors(report):
    result = report["results"]["bankchurn-v2"]
    for kind, rows in (("single", 1), ("batch", BATCH_ROWS)):
        assert result[kind]["rows"] == rows
        assert result[kind]["throughput_rps"] > 0
        assert result[kind]["errors"] == 0
    assert result["parity_max_abs_diff"] <= PARITY_TOLERANCE
    assert "| bankchurn-v2 |" in report["markdown"]


def test_the_payload_is_one_named_tensor_per_feature():
    payload = bankchurn_v2_payload(benchmark_customers()[:3], None)  # type: ignore[arg-type]
    body = json.loads(payload.body)
    assert payload.path == "/v2/models/bankchurn/infer"
    assert payload.rows == 3
    assert [(i["name"], i["datatype"], i["shape"]) for i in body["inputs"]][:2] == [
        ("CreditScore", "INT64", [3]),
        ("Geography", "BYTES", [3]),
    ]
    answer = {"outputs": [{"name": "churn_probability", "data": [0.25, 0.5, 0.75]}]}
    assert bankchurn_v2_probabilities(answer) == [0.25, 0.5, 0.75]
