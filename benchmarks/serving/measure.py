"""The measurement loop: parity gate, versions, cold starts, then every contestant under load.

All servers run at once (idle but the one under load) and the timed runs go round by
round across contestants, so a machine that slows down mid-run hits every median alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.errors import BenchError
from benchmarks.loopback import post
from benchmarks.serving.checks import PARITY_TOLERANCE
from benchmarks.serving.contestant import KINDS, Contestant
from benchmarks.serving.payload import Payload
from benchmarks.serving.process import Server, memory_mib, running
from benchmarks.serving.wrk import LoadTarget

# Fixed-rate runs: the single-row point, and the same rows/s budget's tenth for batches
# (200 batches/s of 100 rows is 20,000 rows/s, beyond every contestant's one core). An
# explanation scores 1,024 rows (about 10 ms on ONNX, 25 ms on scikit-learn, one quiet core):
# 10/s is a rate both backends sustain, so its p99 is latency, not queueing.
RATES = {"single": 200, "batch": 20, "explain": 10}


def check_parity(
    server: Server, contestant: Contestant, payload: Payload, reference: np.ndarray
) -> float | None:
    """Largest |p - reference| over the batch; raises when a contestant answers otherwise."""
    status, raw = post(server.url(payload.path), payload.body, timeout=30)
    if status != 200:
        raise BenchError(f"{contestant.name}: {payload.path} answered {status}: {raw[:500]!r}")
    probabilities = contestant.probabilities(json.loads(raw))
    if not probabilities:
        return None  # the ceiling answers a constant
    if len(probabilities) != len(reference):
        raise BenchError(
            f"{contestant.name}: {len(probabilities)} probabilities for {len(reference)} rows"
        )
    difference = float(np.max(np.abs(np.asarray(probabilities) - reference)))
    if difference > PARITY_TOLERANCE:
        raise BenchError(
            f"{contestant.name} disagrees with the reference pipeline by {difference:.3g} "
            f"(> {PARITY_TOLERANCE}); it is not serving the same model"
        )
    return difference


def verify(contestant: Contestant, server: Server) -> dict[str, Any]:
    """The contestant's own check (benchmarks.serving.checks), its name in any error."""
    if contestant.verify is None:
        return {}
    try:
        return contestant.verify(server.url(""))
    except BenchError as error:
        raise BenchError(f"{contestant.name}: {error}; it is not measured") from None


def version_of(python: str, distribution: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(
            f"{distribution} is not installed for {python}; run `make bench` (it creates "
            ".venv-bench/ from benchmarks/peers/*/requirements.txt)"
        )
    return result.stdout.strip()


def cold_starts(
    contestant: Contestant, payload: Payload, runs: int, cpu: int, scratch: Path
) -> dict[str, Any]:
    """Process start to the first 200 answer, ``runs`` times, each a fresh process."""
    times = []
    for _ in range(runs):
        with running(contestant, cpu, scratch) as (server, started):
            times.append(server.wait_answering(payload, started))
    print(f"{contestant.name}: cold start median {statistics.median(times):.2f} s", flush=True)
    return {"median": statistics.median(times), "runs": times}


def summarize(
    payload: Payload, runs: list[dict[str, Any]], rate: dict[str, Any], target: int
) -> dict[str, Any]:
    return {
        "rows": payload.rows,
        "bytes": len(payload.body),
        "throughput_rps": statistics.median(run["rps"] for run in runs),
        "throughput_runs": [run["rps"] for run in runs],
        "throughput_p50_ms": statistics.median(run["latency_us"]["p50"] for run in runs) / 1000,
        "errors": sum(run["requests"] - run["ok"] for run in [*runs, rate]),
        "rate": {
            "target_rps": target,
            "achieved_rps": rate["rps"],
            "late_sends": rate["late"],
            "p50_ms": rate["latency_us"]["p50"] / 1000,
            "p90_ms": rate["latency_us"]["p90"] / 1000,
            "p99_ms": rate["latency_us"]["p99"] / 1000,
            "max_ms": rate["latency_us"]["max"] / 1000,
        },
    }


def measure_all(
    chosen: list[Contestant],
    inputs: dict[str, tuple[list[dict[str, Any]], np.ndarray]],
    reference: np.ndarray,
    args: argparse.Namespace,
    scratch: Path,
) -> dict[str, Any]:
    """Every contestant's numbers. All servers run at once (idle but one), and the timed
    runs go round by round across contestants: when the machine slows down mid-run, every
    contestant's median is hit alike, and the ratios between them hold."""
    payloads = {
        c.name: {kind: c.payload_for(kind, *inputs[kind]) for kind in c.kinds} for c in chosen
    }
    parity = {c.name: c.payload_for("batch", *inputs["batch"]) for c in chosen}
    results: dict[str, Any] = {
        c.name: {
            "title": c.title,
            "setup": c.setup_note,
            "versions": {dist: version_of(python, dist) for python, dist in c.versions},
            "cold_start_s": cold_starts(
                c, payloads[c.name][c.kinds[-1]], args.cold_runs, args.server_cpu, scratch
            ),
        }
        for c in chosen
    }
    with contextlib.ExitStack() as stack:
        servers: dict[str, Server] = {}
        for c in chosen:
            server, started = stack.enter_context(running(c, args.server_cpu, scratch))
            server.wait_answering(payloads[c.name][c.kinds[-1]], started)
            results[c.name]["parity_max_abs_diff"] = check_parity(
                server, c, parity[c.name], reference
            )
            if c.verify is not None:
                results[c.name]["checks"] = verify(c, server)
            servers[c.name] = server
        time.sleep(2)  # let start-up work (imports, first-request caches) settle
        for name, server in servers.items():
            results[name]["memory_idle_mib"] = memory_mib(server.pid)
        for kind in KINDS:
            targets = {
                name: LoadTarget(
                    server.url(payloads[name][kind].path), scratch / f"{name}-{kind}.json"
                )
                for name, server in servers.items()
                if kind in payloads[name]
            }
            if not targets:
                continue
            for name, target in targets.items():
                target.body_file.write_bytes(payloads[name][kind].body)
                target.run(args, args.warmup)
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
            for round_ in range(1, args.repeats + 1):
                for name, target in targets.items():
                    runs[name].append(target.run(args, args.duration))
                line = ", ".join(f"{name} {runs[name][-1]['rps']:,.0f}" for name in targets)
                print(f"{kind} round {round_}: req/s {line}", flush=True)
            for name, target in targets.items():
                rate = target.run(args, args.rate_duration, RATES[kind])
                results[name][kind] = summarize(payloads[name][kind], runs[name], rate, RATES[kind])
                latency = rate["latency_us"]
                print(
                    f"{kind} at {RATES[kind]}/s: {name} p50 {latency['p50'] / 1000:.2f} ms "
                    f"p99 {latency['p99'] / 1000:.2f} ms, late {rate['late']}",
                    flush=True,
                )
        for name, server in servers.items():
            results[name]["memory_loaded_mib"] = memory_mib(server.pid)
    return results
