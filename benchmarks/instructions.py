"""Instructions per plain request: does a worker that has explained stay as cheap? (#14)

Throughput cannot answer a question of a few percent on this VM: three identical ONNX
servers in one `make bench` run served 1,258, 918 and 838 single rows/s
(docs/benchmarks.md). valgrind's callgrind counts the instructions the process executes,
which do not move with the machine's load. Each run below is a fresh interpreter under
callgrind with counting off (``--instr-atstart=no``); it builds the real app (committed
model, ONNX backend, JSON access log, every feature on), warms it up with 50 plain
requests, optionally serves explanations (``?explain=true``), then turns counting on
(``callgrind_control -i on``) for N plain single-row requests driven in-process through
ASGI, and off. Two runs per condition (N1 and N2 requests) give the cost of one request
as (I(N2) - I(N1)) / (N2 - N1): what start-up, warm-up and the switches cost cancels out.
PYTHONHASHSEED is fixed, so the same code counts the same to within a few hundred
instructions per request.

    python -m benchmarks.instructions            # writes docs/instructions.{json,md}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.cli import run_cli
from benchmarks.errors import BenchError
from benchmarks.goals import GOALS
from tooling.paths import MODEL_DIR, REPO_ROOT

DOCUMENT = REPO_ROOT / "docs" / "instructions.md"
RESULTS = REPO_ROOT / "docs" / "instructions.json"
WARM_UP = 50
EXPLANATIONS_FIRST = 50
SHORT, LONG = 100, 300  # plain requests counted, per run
# (name, explanations served before counting, query string of the counted requests). The
# goal judges the first two; the third prices reading a query string (app.explaining).
CONDITIONS = (
    ("plain, worker never explained", 0, b""),
    (f"plain, after {EXPLANATIONS_FIRST} explanations", EXPLANATIONS_FIRST, b""),
    ("explain=false given, never explained", 0, b"explain=false"),
)
JUDGED = 2
_COLLECTED = re.compile(r"Collected : (\d+)")


async def _drive(explanations: int, counted: int, query: bytes) -> None:
    """The child's work, run under callgrind: counting is on only around the counted requests."""
    from prometheus_client import CollectorRegistry

    from app.fastapi_app import create_app
    from app.settings import Settings
    from benchmarks.serving.adapters import bankchurn_payload, benchmark_customers
    from benchmarks.serving.inprocess import await_model, request

    app = create_app(Settings(model_dir=MODEL_DIR, backend="onnx"), registry=CollectorRegistry())
    payload = bankchurn_payload(benchmark_customers()[:1], None)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        await await_model(app)
        for _ in range(WARM_UP):
            await request(app, payload)
        for _ in range(explanations):
            await request(app, payload, b"explain=true")
        _callgrind("on")
        for _ in range(counted):
            await request(app, payload, query)
        _callgrind("off")


def _callgrind(switch: str) -> None:
    subprocess.run(
        ["callgrind_control", "-i", switch, str(os.getpid())],
        check=True, stdout=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip


def _count(explanations: int, counted: int, query: bytes, scratch: Path) -> int:
    """Instructions callgrind counted in one child run."""
    log = scratch / f"callgrind-{explanations}-{counted}-{query.decode() or 'none'}.log"
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--log-file={log}",
        f"--callgrind-out-file={scratch / 'callgrind.out.%p'}",
        sys.executable, "-m", "benchmarks.instructions",
        "--child", str(explanations), str(counted), query.decode(),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0", "BANKCHURN_LOG_FORMAT": "json"}
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    found = _COLLECTED.search(log.read_text()) if log.exists() else None
    if result.returncode != 0 or found is None:
        told = log.read_text()[-2000:] if log.exists() else result.stderr[-2000:]
        raise BenchError(f"callgrind run failed (exit {result.returncode}):\n{told}")
    return int(found.group(1))


def measure(
    conditions: Sequence[tuple[str, int, bytes]] = CONDITIONS, short: int = SHORT, long: int = LONG
) -> dict[str, Any]:
    """Instructions per request for each condition: two counted runs, N1 = ``short`` and
    N2 = ``long`` requests."""
    try:
        version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True)
    except FileNotFoundError as error:
        raise BenchError("valgrind is not installed: apt-get install valgrind") from error
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bankchurn-callgrind-") as scratch:
        for name, explanations, query in conditions:
            counts = [_count(explanations, n, query, Path(scratch)) for n in (short, long)]
            per_request = (counts[1] - counts[0]) / (long - short)
            rows.append({"condition": name, "runs": counts, "per_request": per_request})
            print(f"instructions: {name}: {per_request:,.0f} per request", flush=True)
    fresh = rows[0]["per_request"]
    for row in rows:
        row["vs_never_explained"] = row["per_request"] / fresh
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "valgrind": version.stdout.strip(),
        "python": sys.version.split()[0],
        "requests": [short, long],
        "rows": rows,
        "goal_max_ratio": GOALS["plain_after_explain_vs_plain_instructions"],
    }


def render(results: dict[str, Any]) -> str:
    goal = results["goal_max_ratio"]
    worst = max(row["vs_never_explained"] for row in results["rows"][:JUDGED])
    short, long = results["requests"]
    lines = [
        "# Instructions per plain request (generated by `python -m benchmarks.instructions`)",
        "",
        "Does serving reason codes (issue #14) make plain requests dearer? Counted by "
        f"valgrind's callgrind ({results['valgrind']}, Python {results['python']}, "
        f"{results['date']}): the real app, committed model, ONNX backend, every feature on, "
        "in-process through ASGI (no HTTP server). Each figure is "
        f"(I({long}) - I({short})) / {long - short} from two fresh runs, so start-up and "
        "warm-up cancel out. Method: the docstring of benchmarks/instructions.py.",
        "",
        "| condition | instructions per request | vs never explained |",
        "|---|---:|---:|",
    ]
    for row in results["rows"]:
        lines.append(
            f"| {row['condition']} | {row['per_request']:,.0f} | {row['vs_never_explained']:.4f} |"
        )
    verdict = "met" if worst <= goal else "NOT met"
    lines += [
        "",
        f"Goal: a plain request on a worker that has explained costs at most {goal:.2f}x "
        f"one on a worker that never did: **{worst:.4f}x, {verdict}**. An explicit "
        "`explain=false` pays for reading the query string (pydantic validates it, "
        "app.explaining.explain_options); a request without one reads nothing.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    parser.add_argument("--child", nargs=3, metavar=("EXPLANATIONS", "COUNTED", "QUERY"))
    parser.add_argument("--render-only", action="store_true", help="re-render the JSON")
    args = parser.parse_args(argv)
    if args.child:
        explanations, counted, query = args.child
        with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
            asyncio.run(_drive(int(explanations), int(counted), query.encode()))
        return 0
    results = json.loads(RESULTS.read_text()) if args.render_only else measure()
    if not args.render_only:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    DOCUMENT.write_text(render(results))
    print(f"instructions: wrote {DOCUMENT.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    run_cli(main, "benchmarks.instructions")
