"""The report's sections on what single features cost, each rendered only when its
contestants ran: the typed ceiling (issue #15), explanations (#14), the drift counters (#13)."""

from __future__ import annotations

from typing import Any

from benchmarks.serving.checks import EFFICIENCY_TOLERANCE
from benchmarks.serving.measure import RATES


def _rps(results: dict[str, Any], name: str, kind: str = "single") -> float:
    return float(results[name][kind]["throughput_rps"])


def single_row_notes(results: dict[str, Any]) -> list[str]:
    """Under the single-row table: the two ceilings, and what the explain rows there are."""
    out = []
    if {"bankchurn-onnx", "fastapi-typed", "fastapi-trivial"} <= results.keys():
        onnx = _rps(results, "bankchurn-onnx")
        typed, trivial = _rps(results, "fastapi-typed"), _rps(results, "fastapi-trivial")
        out += [
            "",
            f"bankchurn-onnx runs at {onnx / typed:.0%} of the typed ceiling (fastapi-typed: "
            "the same stack parsing bankchurn's own PredictRequest and answering a constant "
            f"ChurnPrediction) and at {onnx / trivial:.0%} of the trivial one. Per request: "
            f"{1e6 / onnx:.0f} us for bankchurn-onnx, {1e6 / typed:.0f} us for the typed "
            f"ceiling, {1e6 / trivial:.0f} us for the trivial one (one core, so 1/throughput).",
        ]
    explaining = [name for name in results if name.endswith("-explain")]
    if explaining:
        out += [
            "",
            f"The {', '.join(explaining)} rows are plain requests (no explain) to the worker "
            "that served the explanations of the next section just before.",
        ]
    return out


def explain_section(report: dict[str, Any]) -> list[str]:
    results: dict[str, Any] = report["results"]
    names = [name for name, r in results.items() if "explain" in r]
    if not names:
        return []
    rate = RATES["explain"]
    out = [
        "",
        "## Reason codes: one customer per request, ?explain=true",
        "",
        "`POST /predict?explain=true` with README's customer (three reasons, the default): "
        "the model runs on all 1,024 mixes of the customer and the reference customer, in one "
        f"call. Fixed rate {rate}/s. Before timing, each contestant explained a sample of "
        "customers with all ten reasons: their contributions add up to p(customer) - "
        f"p(reference) within {EFFICIENCY_TOLERANCE:g} and p is the pipeline's (columns at "
        "the right).",
        "",
        "| contestant | req/s | vs plain, same worker | p50 under load | p50 at "
        f"{rate}/s | p99 at {rate}/s | achieved, late | errors | customers checked | max "
        "sum gap |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        row, checks = results[name]["explain"], results[name].get("checks", {})
        timed = row["rate"]
        out.append(
            f"| {name} | {row['throughput_rps']:,.0f} "
            f"| {row['throughput_rps'] / _rps(results, name):.2f}x "
            f"| {row['throughput_p50_ms']:.2f} ms | {timed['p50_ms']:.2f} ms "
            f"| {timed['p99_ms']:.2f} ms | {timed['achieved_rps']:.0f}/s, {timed['late_sends']} "
            f"| {row['errors']} | {checks.get('explained_customers', '-')} "
            f"| {checks.get('explain_max_efficiency_gap', 0):.1e} |"
        )
    out += [
        "",
        'What "non-explain requests not slower" (goals) can and cannot say. There is no '
        "setting that turns reason codes off, so one run cannot time a plain request without "
        "the feature's code; what it adds to a plain request is two query parameters left at "
        "their defaults and one `if`. What one run can time is whether explaining leaves a "
        "cost behind: each -explain worker serves plain single rows right after its "
        "explanations, interleaved round by round with the worker of the same backend that "
        "never explained. Against an earlier commit's numbers (another day, another load "
        "on the machine) no ratio is stated.",
    ]
    return out


def drift_section(report: dict[str, Any]) -> list[str]:
    results: dict[str, Any] = report["results"]
    if not {"bankchurn-onnx", "bankchurn-onnx-nodrift"} <= results.keys():
        return []
    out = [
        "",
        "## What the drift counters cost",
        "",
        "bankchurn-onnx counts every scored customer into its drift bins (one counter "
        "increment per feature); bankchurn-onnx-nodrift serves a copy of models/ whose card "
        "has no drift reference, as a model trained before drift monitoring, so it counts "
        "nothing (checked before timing: its /metrics has no bankchurn_feature_bin_total, "
        "and bankchurn-onnx's had counted the parity batch).",
        "",
        "| payload | with drift counters | without | ratio | cost per request |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in ("single", "batch"):
        if kind not in results["bankchurn-onnx-nodrift"]:
            continue
        with_drift = _rps(results, "bankchurn-onnx", kind)
        without = _rps(results, "bankchurn-onnx-nodrift", kind)
        rows = results["bankchurn-onnx"][kind]["rows"]
        out.append(
            f"| {rows} customer{'s' if rows > 1 else ''} | {with_drift:,.0f} req/s "
            f"| {without:,.0f} req/s | {with_drift / without:.0%} "
            f"| {(1 / with_drift - 1 / without) * 1e6:+.0f} us |"
        )
    return out
