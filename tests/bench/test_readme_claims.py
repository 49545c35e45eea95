"""README's performance claims say what the committed benchmark (docs/benchmarks.json) measured."""

from __future__ import annotations

import json

import pytest

from benchmarks.serving.verdicts import PEERS
from tooling.paths import REPO_ROOT


@pytest.fixture(scope="module")
def measured() -> dict:
    return json.loads((REPO_ROOT / "docs" / "benchmarks.json").read_text())


@pytest.fixture(scope="module")
def readme() -> str:
    return " ".join((REPO_ROOT / "README.md").read_text().split())


def _single(measured: dict, name: str) -> dict:
    return measured["results"][name]["single"]


def test_the_onnx_lead_over_the_best_peer(measured, readme):
    onnx = _single(measured, "bankchurn-onnx")["throughput_rps"]
    best = max(
        _single(measured, peer)["throughput_rps"] for peer in PEERS if peer in measured["results"]
    )
    assert f"about {onnx / best:.0f}x the single-row throughput of the best peer" in readme


def test_the_p99_at_the_fixed_rate(measured, readme):
    rate = _single(measured, "bankchurn-onnx")["rate"]
    assert rate["late_sends"] == 0
    assert f"p99 of {rate['p99_ms']:.1f} ms at {rate['target_rps']} requests/s" in readme


def test_sklearn_bankchurn_against_mlserver(measured, readme):
    ratio = (
        _single(measured, "bankchurn-sklearn")["throughput_rps"]
        / _single(measured, "mlserver")["throughput_rps"]
    )
    assert ratio >= 0.9  # the same library underneath: never clearly behind
    assert (
        f"bankchurn on scikit-learn serves {ratio:.1f}x MLServer's single-row throughput" in readme
    )


def test_the_reason_code_figures(measured, readme):
    onnx, sklearn = (
        measured["results"][f"bankchurn-{backend}-explain"]["explain"]
        for backend in ("onnx", "sklearn")
    )
    assert (
        f"serve {onnx['throughput_rps']:.0f} requests/s on ONNX and "
        f"{sklearn['throughput_rps']:.0f} on scikit-learn, "
        f"p99 {onnx['rate']['p99_ms']:.0f} and {sklearn['rate']['p99_ms']:.0f} ms "
        f"at {onnx['rate']['target_rps']} requests/s"
    ) in readme


def test_the_production_image_cold_start(measured, readme):
    assert f"about {measured['image']['median_s']:.1f} s after `docker run`" in readme


def test_the_missed_ceiling_goals(measured, readme):
    onnx = _single(measured, "bankchurn-onnx")["throughput_rps"]
    typed = onnx / _single(measured, "fastapi-typed")["throughput_rps"]
    trivial = onnx / _single(measured, "fastapi-trivial")["throughput_rps"]
    claim = f"not met: the ONNX backend reaches {typed * 100:.0f} % of the typed ceiling"
    assert f"{claim} (goal: 60 %)" in readme
    assert f"and {trivial * 100:.0f} % of the trivial endpoint's throughput" in readme
    ceilings = [g for g in measured["goals"] if "ceiling" in g["goal"]]
    assert len(ceilings) == 2
    assert not any(goal["met"] for goal in ceilings)
