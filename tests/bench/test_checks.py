"""The checks a bankchurn variant must pass before it is timed fail when they should.

Real servers, started by the harness itself (benchmarks.serving.process.running): the
drift checks on bankchurn-onnx (counts its inputs) and its -nodrift variant (counts
none) swapped, the explanation check on the typed ceiling (no reasons) and on a real
explained answer with one contribution nudged by 1e-5.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bankchurn.schema import encode_records
from benchmarks.errors import BenchError
from benchmarks.loopback import post
from benchmarks.serving import checks
from benchmarks.serving.adapters import bankchurn_payload, benchmark_customers
from benchmarks.serving.checks import drift_counters, explanations
from benchmarks.serving.contestant import Contestant
from benchmarks.serving.contestants import contestants
from benchmarks.serving.process import running
from tests.api import test_readme_examples as readme


def by_name(name: str) -> Contestant:
    return next(c for c in contestants() if c.name == name)


@pytest.fixture
def base_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A real server of the named contestant, after the parity batch (100 customers)."""
    contestant = by_name(request.param)
    customers = benchmark_customers()
    matrix = encode_records(customers)
    with running(contestant, 0, tmp_path) as (server, started):
        server.wait_answering(bankchurn_payload(customers[:1], matrix[:1]), started)
        batch = bankchurn_payload(customers, matrix)
        assert post(server.url(batch.path), batch.body, timeout=30)[0] == 200
        yield server.url("")


@pytest.mark.parametrize("base_url", ["bankchurn-onnx"], indirect=True)
def test_a_server_that_counts_drift_is_not_taken_for_one_without(base_url):
    assert drift_counters(exported=True)(base_url) == {"drift_counters": True}
    with pytest.raises(BenchError, match="it is not a model without drift"):
        drift_counters(exported=False)(base_url)


@pytest.mark.parametrize("base_url", ["bankchurn-onnx-nodrift"], indirect=True)
def test_a_server_without_a_drift_reference_counts_nothing(base_url):
    assert drift_counters(exported=False)(base_url) == {"drift_counters": False}
    with pytest.raises(BenchError, match="counted fewer than the 100 customers"):
        drift_counters(exported=True)(base_url)


@pytest.mark.parametrize("base_url", ["bankchurn-sklearn-explain"], indirect=True)
def test_the_scikit_learn_explanations_add_up(base_url):
    checked = explanations(base_url)

    assert checked["explained_customers"] == checks.EXPLAIN_SAMPLE + 1
    assert checked["explain_max_efficiency_gap"] <= checks.EFFICIENCY_TOLERANCE


@pytest.mark.parametrize("base_url", ["fastapi-typed"], indirect=True)
def test_an_answer_without_reasons_fails_the_explanation_check(base_url):
    with pytest.raises(BenchError, match="reasons for"):
        explanations(base_url)


@pytest.mark.parametrize("base_url", ["bankchurn-onnx"], indirect=True)
def test_contributions_that_do_not_add_up_fail_the_explanation_check(base_url, monkeypatch):
    assert explanations(base_url)["explain_max_efficiency_gap"] <= checks.EFFICIENCY_TOLERANCE

    def nudged(url: str, body: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
        status, raw = post(url, body, timeout)
        answer = json.loads(raw)
        if "predictions" in answer:
            answer["predictions"][3]["reasons"][0]["contribution"] += 1e-5
        return status, json.dumps(answer).encode()

    monkeypatch.setattr(checks, "post", nudged)
    with pytest.raises(BenchError, match="explanations do not add up"):
        explanations(base_url)


def test_the_explain_contestants_are_timed_on_readmes_customer():
    path, body, _answer = readme.readme_example("### Reason codes")

    payload = by_name("bankchurn-onnx-explain").payload_for(
        "explain", [body], encode_records([body])
    )

    assert (payload.path, json.loads(payload.body)) == (path, body)
    assert json.loads(payload.body) == checks.EXPLAIN_CUSTOMER
