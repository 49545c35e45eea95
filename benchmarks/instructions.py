"""Instructions per request, counted by callgrind: what throughput cannot tell on this VM.

Throughput cannot answer a question of a few percent here: three identical ONNX servers
in one `make bench` run served 1,258, 918 and 838 single rows/s (docs/benchmarks.md).
valgrind's callgrind counts the instructions the process executes, which do not move with
the machine's load. Each run is a fresh interpreter under callgrind with counting off
(benchmarks/callgrind_child.py): it builds the real app (committed model, ONNX backend,
JSON access log, every feature on), warms it up with 50 requests, optionally serves
explanations (``?explain=true``), then counts N requests driven in-process through ASGI.
Two runs per condition (N1 and N2 requests) give the cost of one request as
(I(N2) - I(N1)) / (N2 - N1): what start-up, warm-up and the switches cost cancels out.
PYTHONHASHSEED is fixed, yet four runs of the same 100 requests counted 68.7 to 69.7
million: an offset per run, not per request, so N2 - N1 = 600 requests keeps it to about
+-0.2 % of a single row's figure. Two questions:

- issue #14: does a plain single row cost more on a worker that has explained?
- issue #15: how many fewer instructions does the app spend on a single row and on a batch
  of 100 than the code of ``BEFORE_ISSUE_15`` (its ``app`` and ``src`` by ``git archive``,
  as bankchurn-onnx-b7c1c21 in benchmarks.serving, on this venv and model)? Evidence
  beside the requests/s and rows/s ratios that judge that issue's goals
  (docs/benchmarks.md), not a substitute: no HTTP server is counted, and a thread hop
  costs time but few instructions.

    python -m benchmarks.instructions            # writes docs/instructions.{json,md}
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.cli import run_cli
from benchmarks.errors import BenchError
from benchmarks.goals import BEFORE_ISSUE_15, GOALS
from benchmarks.serving.adapters import BATCH_ROWS, bankchurn_payload, benchmark_customers
from benchmarks.serving.payload import Payload
from benchmarks.serving.variants import extract_commit
from tooling.paths import REPO_ROOT

DOCUMENT = REPO_ROOT / "docs" / "instructions.md"
RESULTS = REPO_ROOT / "docs" / "instructions.json"
EXPLANATIONS_FIRST = 50
SHORT, LONG = 100, 700  # plain requests counted, per run
# (name, explanations served before counting, query string of the counted requests). The
# goal judges the first two; the third prices reading a query string (app.explaining).
CONDITIONS = (
    ("plain, worker never explained", 0, b""),
    (f"plain, after {EXPLANATIONS_FIRST} explanations", EXPLANATIONS_FIRST, b""),
    ("explain=false given, never explained", 0, b"explain=false"),
)
JUDGED = 2
# Issue #15: (request, rows, N1, N2); a batch costs ~17 single rows, so fewer are counted.
SIZES = (("single row", 1, SHORT, LONG), (f"batch of {BATCH_ROWS}", BATCH_ROWS, 10, 30))
_COLLECTED = re.compile(r"Collected : (\d+)")


@dataclass(frozen=True)
class Run:
    """What one callgrind run serves, and whose code serves it."""

    payload: Payload
    explanations: int = 0
    query: bytes = b""
    tree: Path | None = None  # an older commit's app and src (extract_commit); None: this one


def _count(run: Run, counted: int, scratch: Path) -> int:
    """Instructions callgrind counted in one child run of ``counted`` requests."""
    runs = len(list(scratch.glob("spec-*.json")))
    spec, log = scratch / f"spec-{runs}.json", scratch / f"callgrind-{runs}.log"
    spec.write_text(json.dumps({
        "path": run.payload.path, "body": run.payload.body.decode(), "rows": run.payload.rows,
        "explanations": run.explanations, "counted": counted, "query": run.query.decode(),
    }))  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0", "BANKCHURN_LOG_FORMAT": "json"}
    isolation: list[str] = []
    if run.tree is not None:
        # -P: the working folder is not on sys.path; the old app and bankchurn come first
        # (ahead of the venv's editable install of this checkout), then this checkout's
        # benchmarks and tooling, which drive it.
        isolation = ["-P"]
        env["PYTHONPATH"] = os.pathsep.join([str(run.tree), str(run.tree / "src"), str(REPO_ROOT)])
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--log-file={log}",
        f"--callgrind-out-file={scratch / 'callgrind.out.%p'}",
        sys.executable, *isolation, "-m", "benchmarks.callgrind_child", str(spec),
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    found = _COLLECTED.search(log.read_text()) if log.exists() else None
    if result.returncode != 0 or found is None:
        told = log.read_text()[-2000:] if log.exists() else result.stderr[-2000:]
        raise BenchError(f"callgrind run failed (exit {result.returncode}):\n{told}")
    return int(found.group(1))


def _per_request(run: Run, short: int, long: int, scratch: Path) -> tuple[list[int], float]:
    counts = [_count(run, n, scratch) for n in (short, long)]
    return counts, (counts[1] - counts[0]) / (long - short)


def measure(
    conditions: Sequence[tuple[str, int, bytes]] = CONDITIONS,
    short: int = SHORT,
    long: int = LONG,
    sizes: Sequence[tuple[str, int, int, int]] = SIZES,
) -> dict[str, Any]:
    """Each condition's instructions per single row (N1 = ``short``, N2 = ``long``), then
    each of ``sizes`` counted on the code of BEFORE_ISSUE_15 and on this checkout's."""
    try:
        version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True)
    except FileNotFoundError as error:
        raise BenchError("valgrind is not installed: apt-get install valgrind") from error
    customers = benchmark_customers()
    single = bankchurn_payload(customers[:1], None)  # type: ignore[arg-type]
    rows: list[dict[str, Any]] = []
    before: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bankchurn-callgrind-") as folder:
        scratch = Path(folder)
        for name, explanations, query in conditions:
            counts, per_request = _per_request(
                Run(single, explanations, query), short, long, scratch
            )
            rows.append({"condition": name, "runs": counts, "per_request": per_request})
            print(f"instructions: {name}: {per_request:,.0f} per request", flush=True)
        tree = scratch / "tree"
        extract_commit(BEFORE_ISSUE_15, tree)
        for name, size, n1, n2 in sizes:
            payload = bankchurn_payload(customers[:size], None)  # type: ignore[arg-type]
            _, old = _per_request(Run(payload, tree=tree), n1, n2, scratch)
            _, new = _per_request(Run(payload), n1, n2, scratch)
            before.append({"request": name, "rows": size, "requests": [n1, n2],
                           "before": old, "now": new, "fewer": old / new})  # fmt: skip
            print(f"instructions: {name}: {old:,.0f} at {BEFORE_ISSUE_15[:7]}, {new:,.0f} now")
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
        "before_commit": BEFORE_ISSUE_15,
        "before": before,
    }


def render(results: dict[str, Any]) -> str:
    goal = results["goal_max_ratio"]
    worst = max(row["vs_never_explained"] for row in results["rows"][:JUDGED])
    short, long = results["requests"]
    old = results["before_commit"][:7]
    lines = [
        "# Instructions per request (generated by `python -m benchmarks.instructions`)",
        "",
        f"Counted by valgrind's callgrind ({results['valgrind']}, Python {results['python']}, "
        f"{results['date']}): the real app, committed model, ONNX backend, every feature on, "
        "in-process through ASGI (no HTTP server). Each figure is (I(N2) - I(N1)) / (N2 - N1) "
        "from two fresh runs of N1 and N2 requests, so start-up and warm-up cancel out. "
        "Method: the docstring of benchmarks/instructions.py.",
        "",
        "## A plain request after explanations (issue #14)",
        "",
        f"Single rows, N1 = {short}, N2 = {long}.",
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
        f"## This code against {old}'s (issue #15)",
        "",
        f"The `app` and `src` of {results['before_commit']} (`git archive`, issue #15's "
        '"today"), run on this venv and model, against this checkout.',
        "",
        f"| request | N1, N2 | {old}, per request | now, per request | now, per row | "
        f"{old} / now |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in results["before"]:
        n1, n2 = row["requests"]
        lines.append(
            f"| {row['request']} | {n1}, {n2} | {row['before']:,.0f} | {row['now']:,.0f} | "
            f"{row['now'] / row['rows']:,.0f} | {row['fewer']:.2f}x |"
        )
    lines += [
        "",
        "Instructions are not time: the HTTP server's work (uvicorn, httptools), the same "
        "for both, is not counted, nor what costs time without instructions (the thread hop "
        f"{old} made for batches over 16 rows, memory stalls). Issue #15's goals (1.5x "
        "single rows, 2x batches) are judged by requests/s and rows/s through HTTP in "
        "docs/benchmarks.md.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    parser.add_argument("--render-only", action="store_true", help="re-render the JSON")
    args = parser.parse_args(argv)
    results = json.loads(RESULTS.read_text()) if args.render_only else measure()
    if not args.render_only:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    DOCUMENT.write_text(render(results))
    print(f"instructions: wrote {DOCUMENT.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    run_cli(main, "benchmarks.instructions")
