"""The run's verdicts: the goals it checks (benchmarks.goals) and one pod's capacity
(tooling.capacity), the record deploy/k8s is sized from."""

from __future__ import annotations

import argparse
from typing import Any

from benchmarks.goals import BEFORE_ISSUE_15, GOALS
from tooling.capacity import Capacity

# The servers a user might pick instead of bankchurn (ceilings and variants are not peers).
PEERS = ("mlserver", "mlflow", "bentoml", "litserve", "rayserve")


def goals(results: dict[str, Any], image: dict[str, Any] | None) -> list[dict[str, Any]]:
    def single(name: str) -> float:
        return float(results[name]["single"]["throughput_rps"]) if name in results else 0.0

    peers = [name for name in PEERS if name in results]
    onnx = single("bankchurn-onnx")
    checks: list[dict[str, Any]] = []
    if onnx and peers:
        best = max(peers, key=single)
        checks.append(
            {
                "goal": "bankchurn-onnx single-row throughput >= "
                f"{GOALS['onnx_vs_best_peer_single_rps']:g}x the best peer ({best})",
                "value": f"{onnx / single(best):.1f}x",
                "met": onnx / single(best) >= GOALS["onnx_vs_best_peer_single_rps"],
            }
        )
    if onnx and "fastapi-trivial" in results:
        ratio = onnx / single("fastapi-trivial")
        checks.append(
            {
                "goal": f"bankchurn-onnx single-row throughput >= "
                f"{GOALS['onnx_vs_ceiling_single_rps']:.0%} of the trivial-endpoint ceiling",
                "value": f"{ratio:.0%}",
                "met": ratio >= GOALS["onnx_vs_ceiling_single_rps"],
            }
        )
    checks += typed_ceiling_goal(results) + before_goals(results) + drift_goal(results)
    checks += explain_goals(results)
    if onnx:
        rate = results["bankchurn-onnx"]["single"]["rate"]
        checks.append(
            {
                "goal": f"bankchurn-onnx p99 <= {GOALS['onnx_p99_ms_at_200_rps']:g} ms at "
                f"{rate['target_rps']} requests/s (single row), rate sustained",
                "value": f"p99 {rate['p99_ms']:.2f} ms at {rate['achieved_rps']:.0f}/s, "
                f"{rate['late_sends']} late sends",
                "met": rate["p99_ms"] <= GOALS["onnx_p99_ms_at_200_rps"]
                and rate["late_sends"] == 0,
            }
        )
    if onnx:
        loaded = results["bankchurn-onnx"]["memory_loaded_mib"]["rss"]
        checks.append(
            {
                "goal": f"bankchurn-onnx loaded RSS <= {GOALS['onnx_loaded_rss_mib']:g} MiB "
                "(one worker, after the single and batch runs)",
                "value": f"{loaded:.0f} MiB",
                "met": loaded <= GOALS["onnx_loaded_rss_mib"],
            }
        )
    if image:
        checks.append(
            {
                "goal": "production image cold start <= "
                f"{GOALS['production_cold_start_s']:g} s (docker run to first prediction)",
                "value": f"{image['median_s']:.2f} s",
                "met": image["median_s"] <= GOALS["production_cold_start_s"],
            }
        )
    return checks


def _single_rps(results: dict[str, Any], name: str) -> float:
    return float(results[name]["single"]["throughput_rps"])


def typed_ceiling_goal(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue #15: bankchurn-onnx's share of the typed ceiling (fastapi-typed)."""
    if not {"bankchurn-onnx", "fastapi-typed"} <= results.keys():
        return []
    ratio = _single_rps(results, "bankchurn-onnx") / _single_rps(results, "fastapi-typed")
    goal = GOALS["onnx_vs_typed_ceiling_single_rps"]
    return [
        {
            "goal": f"bankchurn-onnx single-row throughput >= {goal:.0%} of the typed ceiling "
            "(fastapi-typed: bankchurn's request and response models, a constant answer)",
            "value": f"{ratio:.0%}",
            "met": ratio >= goal,
        }
    ]


def before_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue #15: against the code it measured as today, run beside main's in this run."""
    before = f"bankchurn-onnx-{BEFORE_ISSUE_15[:7]}"
    if not {"bankchurn-onnx", before} <= results.keys():
        return []
    checks = []
    for kind, unit, goal in (
        ("single", "requests/s", GOALS["onnx_vs_before_single_rps"]),
        ("batch", "rows/s", GOALS["onnx_vs_before_batch_rows"]),
    ):
        now, then = (
            results[name][kind]["throughput_rps"] * results[name][kind]["rows"]
            for name in ("bankchurn-onnx", before)
        )
        what = "single-row" if kind == "single" else "batch-of-100"
        checks.append(
            {
                "goal": f"bankchurn-onnx {what} {unit} >= {goal:g}x {before}'s (the code "
                "issue #15 measured as today)",
                "value": f"{now / then:.2f}x ({now:,.0f} vs {then:,.0f} rows/s)",
                "met": now / then >= goal,
            }
        )
    return checks


def drift_goal(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue #13: the drift counters cost at most 5 % of the single-row throughput."""
    if not {"bankchurn-onnx", "bankchurn-onnx-nodrift"} <= results.keys():
        return []
    with_drift = _single_rps(results, "bankchurn-onnx")
    without = _single_rps(results, "bankchurn-onnx-nodrift")
    cost_us = (1 / with_drift - 1 / without) * 1e6
    goal = GOALS["onnx_drift_vs_nodrift_single_rps"]
    return [
        {
            "goal": f"bankchurn-onnx single-row throughput with the drift counters >= "
            f"{goal:.0%} of without (bankchurn-onnx-nodrift)",
            "value": f"{with_drift / without:.0%} ({with_drift:,.0f} vs {without:,.0f} req/s, "
            f"{cost_us:+.0f} us per request)",
            "met": with_drift / without >= goal,
        }
    ]


def explain_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue #14: explanations measured on both backends, and plain rows not slower on a
    worker that explains than on one that never did (the same rounds, interleaved)."""
    backends = [b for b in ("onnx", "sklearn") if f"bankchurn-{b}-explain" in results]
    if not backends:
        return []
    figures = []
    for backend in backends:
        explain = results[f"bankchurn-{backend}-explain"]["explain"]
        rate = explain["rate"]
        figures.append(
            f"{backend} {explain['throughput_rps']:,.0f} req/s, p99 {rate['p99_ms']:.2f} ms "
            f"at {rate['achieved_rps']:.0f}/s ({rate['late_sends']} late)"
        )
    checks = [
        {
            "goal": "single-row explain contestants reported, both backends "
            "(throughput; p99 at a fixed rate on one core; answers checked)",
            "value": "; ".join(figures),
            "met": backends == ["onnx", "sklearn"],
        }
    ]
    goal = GOALS["plain_after_explain_vs_plain_single_rps"]
    for backend in backends:
        plain = f"bankchurn-{backend}"
        if plain not in results:
            continue
        ratio = _single_rps(results, f"{plain}-explain") / _single_rps(results, plain)
        checks.append(
            {
                "goal": f"non-explain requests not slower: plain single rows on a worker "
                f"that explains >= {goal:.0%} of {plain}'s (which never explains)",
                "value": f"{ratio:.0%}",
                "met": ratio >= goal,
            }
        )
    return checks


def capacity(
    results: dict[str, Any], image: dict[str, Any] | None, args: argparse.Namespace
) -> Capacity | None:
    """One pod's measured capacity, the numbers deploy/k8s sizes itself from.

    The cold start is the production image's (what a pod runs) when it was measured,
    else the host process's, which starts faster (no container set-up)."""
    onnx = results.get("bankchurn-onnx")
    if onnx is None:
        return None
    cold_start = image["median_s"] if image else onnx["cold_start_s"]["median"]
    return Capacity(
        contestant="bankchurn-onnx",
        workers=1,
        cpus=1,
        connections=args.connections,
        single_row_rps=round(onnx["single"]["throughput_rps"], 1),
        batch100_rps=round(onnx["batch"]["throughput_rps"], 1),
        fixed_rate_rps=onnx["single"]["rate"]["target_rps"],
        p99_ms_at_fixed_rate=onnx["single"]["rate"]["p99_ms"],
        cold_start_s=round(cold_start, 3),
        cold_start_of=image["image"] if image else "process",
        rss_idle_mib=onnx["memory_idle_mib"]["rss"],
        rss_loaded_mib=onnx["memory_loaded_mib"]["rss"],
    )
