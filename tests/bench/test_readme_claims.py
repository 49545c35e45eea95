"""README's performance claims say what the committed benchmarks (docs/benchmarks.json,
docs/images.json) measured."""

from __future__ import annotations

import json
import statistics

import pytest

from benchmarks.goals import BEFORE_ISSUE_15, GOALS
from benchmarks.images import stored
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


def _verdict(met: bool) -> str:
    return "met" if met else "not met"


def test_the_ceiling_goals(measured, readme):
    onnx = _single(measured, "bankchurn-onnx")["throughput_rps"]
    typed = onnx / _single(measured, "fastapi-typed")["throughput_rps"]
    trivial = onnx / _single(measured, "fastapi-trivial")["throughput_rps"]
    [goal] = [g for g in measured["goals"] if "of the typed ceiling" in g["goal"]]
    assert goal["met"] == (typed >= GOALS["onnx_vs_typed_ceiling_single_rps"])
    assert (
        f"the ONNX backend reaches {typed * 100:.0f} % of the typed ceiling's single-row "
        f"throughput (goal: 60 %, {_verdict(goal['met'])}) and {trivial * 100:.0f} % of the "
        "trivial endpoint's"
    ) in readme


def test_the_goals_against_the_code_issue_15_started_from(measured, readme):
    before = f"bankchurn-onnx-{BEFORE_ISSUE_15[:7]}"
    ratios = {}
    for kind in ("single", "batch"):
        now, then = (measured["results"][name][kind] for name in ("bankchurn-onnx", before))
        ratios[kind] = now["throughput_rps"] / then["throughput_rps"]
    single_met = ratios["single"] >= GOALS["onnx_vs_before_single_rps"]
    batch_met = ratios["batch"] >= GOALS["onnx_vs_before_batch_rows"]
    assert (
        f"{ratios['single']:.2f}x the single-row throughput of the code issue #15 started from "
        f"({BEFORE_ISSUE_15[:7]}, run beside it; goal 1.5x, {_verdict(single_met)}) and "
        f"{ratios['batch']:.2f}x its rows/s in batches of 100 (goal 2x, {_verdict(batch_met)})"
    ) in readme


def test_the_memory_goal(measured, readme):
    rss = measured["results"]["bankchurn-onnx"]["memory_loaded_mib"]["rss"]
    met = rss <= GOALS["onnx_loaded_rss_mib"]
    assert f"one loaded ONNX worker holds {rss:.0f} MiB (goal: 90 MiB, {_verdict(met)})" in readme


def test_the_production_image_start_split(readme):
    """The split comes from docs/images.json (make bench-images), not the serving report."""
    _, results, _ = stored.load(REPO_ROOT / "docs" / "images.json")
    production = results["production"]
    start = statistics.median(production.starts)
    own = statistics.median(production.own_starts())
    assert (
        f"starts in {start:.2f} s from `docker run` to /ready, {own:.2f} s of it its own" in readme
    )
