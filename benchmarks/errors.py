"""The one error every benchmark raises for a failed precondition or a failed run."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from tooling.docker import DockerError


class BenchError(RuntimeError):
    """A precondition, a contestant or a docker command failed: the message says which and what
    to do."""


def run_cli(main: Callable[[Sequence[str] | None], int], name: str) -> None:
    """Run a benchmark's ``main`` as a command: its own errors become one line and exit 1."""
    try:
        sys.exit(main(None))
    except (BenchError, DockerError) as error:
        print(f"{name}: {error}", file=sys.stderr)
        sys.exit(1)
