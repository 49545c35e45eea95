"""The serving benchmark's command line: `python -m benchmarks.serving` (see the package doc)."""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import benchmarks.serving
from bankchurn.artifacts import load_pipeline
from bankchurn.schema import encode_records
from benchmarks.cli import report_parser, run_cli
from benchmarks.errors import BenchError
from benchmarks.serving.ablation import measure_ablation
from benchmarks.serving.adapters import EXPLAIN_CUSTOMER, bankchurn_payload, benchmark_customers
from benchmarks.serving.contestant import Contestant
from benchmarks.serving.contestants import contestants
from benchmarks.serving.image import production_image_cold_start
from benchmarks.serving.measure import measure_all
from benchmarks.serving.report import draw_chart, machine, render
from benchmarks.serving.verdicts import capacity, goals
from tooling.paths import DOCS, MODEL_DIR

COMMAND = (".venv/bin/python", "-m", "benchmarks.serving")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = report_parser("benchmarks.serving", benchmarks.serving.__doc__, DOCS / "benchmarks.md")
    parser.add_argument("--only", help="comma-separated contestant names (default: all)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per throughput run")
    parser.add_argument("--repeats", type=int, default=3, help="throughput runs per payload")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per payload")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (throughput)")
    parser.add_argument("--rate-duration", type=int, default=15, help="seconds per fixed-rate run")
    parser.add_argument("--rate-connections", type=int, default=16)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1)
    parser.add_argument("--skip-image", action="store_true", help="no Docker cold-start run")
    parser.add_argument("--ablation-requests", type=int, default=300, help="per variant and round")
    parser.add_argument("--ablation-rounds", type=int, default=5)
    parser.add_argument("--skip-ablation", action="store_true", help="no layer-by-layer costs")
    return parser.parse_args(argv)


def chosen_contestants(only: str | None) -> list[Contestant]:
    chosen = contestants()
    if not only:
        return chosen
    wanted = set(only.split(","))
    unknown = wanted - {c.name for c in chosen}
    if unknown:
        raise BenchError(
            f"unknown contestants {sorted(unknown)}; known: {[c.name for c in chosen]}"
        )
    return [c for c in chosen if c.name in wanted]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.render_only:
        stored = json.loads(args.out.with_suffix(".json").read_text())
        args.out.write_text(render(stored, args.out))
        chart = draw_chart(stored, args.out)
        print(f"rewrote {args.out} and {chart} from {args.out.with_suffix('.json')}")
        return 0

    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise BenchError(f"{tool} not found: apt-get install wrk util-linux")
    chosen = chosen_contestants(args.only)
    customers = benchmark_customers()
    matrix = encode_records(customers)
    pipeline, _card = load_pipeline(MODEL_DIR)
    reference = pipeline.predict_proba(matrix)[:, 1]
    inputs = {
        "explain": ([EXPLAIN_CUSTOMER], encode_records([EXPLAIN_CUSTOMER])),
        "single": (customers[:1], matrix[:1]),
        "batch": (customers, matrix),
    }

    # In this process, before any server runs: nothing else of the benchmark competes for CPU.
    ablation = (
        None
        if args.skip_ablation
        else measure_ablation(MODEL_DIR, args.ablation_requests, args.ablation_rounds)
    )
    with tempfile.TemporaryDirectory(prefix="bankchurn-bench-") as scratch:
        results = measure_all(chosen, inputs, reference, args, Path(scratch))
    image = None
    if not args.skip_image:
        payload = bankchurn_payload(customers[:1], matrix[:1])
        image = production_image_cold_start(payload, args.cold_runs, args.server_cpu)
        print(f"production image cold start: median {image['median_s']:.2f} s", flush=True)

    arguments = sys.argv[1:] if argv is None else list(argv)
    measured = capacity(results, image, args)
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join([*COMMAND, *arguments]),
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "only")},
        "results": results,
        "image": image,
        "goals": goals(results, image),
        "capacity": None if measured is None else measured.as_json(),
        "ablation": ablation,
    }
    args.out.write_text(render(report, args.out))
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    chart = draw_chart(report, args.out)
    print(f"wrote {args.out}, {args.out.with_suffix('.json')} and {chart}")
    return 0


if __name__ == "__main__":
    run_cli(main, "benchmark")
