"""The load generator: wrk, pinned to its own core, driven by benchmarks/load.lua.

load.lua prints one JSON line per run (requests, ok, latency percentiles, late sends of
a fixed-rate run); closed loop without BENCH_RATE, open loop at BENCH_RATE requests/s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.errors import BenchError
from tooling.paths import BENCHMARKS_DIR

LOAD_SCRIPT = BENCHMARKS_DIR / "load.lua"


def wrk(
    url: str, body_file: Path, *, cpu: int, connections: int, seconds: int, rate: int | None
) -> dict[str, Any]:
    env = {**os.environ, "BENCH_BODY_FILE": str(body_file)}
    if rate is not None:
        env["BENCH_RATE"] = str(rate)
    else:
        env.pop("BENCH_RATE", None)
    command = [
        "taskset",
        "-c",
        str(cpu),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",  # wrk takes whole seconds only
        "--timeout",
        "10s",
        "-s",
        str(LOAD_SCRIPT),
        url,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, check=False, timeout=seconds + 60
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise BenchError(f"wrk failed ({result.returncode}): {result.stderr or result.stdout}")
    run: dict[str, Any] = json.loads(lines[-1])
    run["rps"] = run["ok"] / (run["duration_us"] / 1e6)
    return run


@dataclass(frozen=True)
class LoadTarget:
    """One contestant's URL and request body for one payload kind."""

    url: str
    body_file: Path

    def run(
        self, args: argparse.Namespace, seconds: int, rate: int | None = None
    ) -> dict[str, Any]:
        connections = args.connections if rate is None else args.rate_connections
        return wrk(
            self.url,
            self.body_file,
            cpu=args.load_cpu,
            connections=connections,
            seconds=seconds,
            rate=rate,
        )
