"""What the two benchmark commands share: the report options of their parsers, and how an
error ends them (`python -m benchmarks.serving`, `python -m benchmarks.images`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.errors import BenchError
from tooling.docker import DockerError


def report_parser(prog: str, doc: str | None, out: Path) -> argparse.ArgumentParser:
    """A parser described by the first line of ``doc``, with ``--out`` (the report, default
    ``out``; its numbers go next to it as .json, its chart into docs/img) and ``--render-only``."""
    description = (doc or prog).splitlines()[0]
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--out", type=Path, default=out, help=f"the report (default {out.name})")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite --out and its chart from the numbers in its .json",
    )
    return parser


def run_cli(main: Callable[[Sequence[str] | None], int], name: str) -> None:
    """Run a benchmark's ``main`` as a command: its own errors become one line and exit 1."""
    try:
        sys.exit(main(None))
    except (BenchError, DockerError) as error:
        print(f"{name}: {error}", file=sys.stderr)
        sys.exit(1)
