"""What the harness knows of one contestant: how its server starts, what it is sent, and
what it must prove before it is timed. The line-up itself is benchmarks.serving.contestants."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.serving.payload import Payload
from tooling.paths import REPO_ROOT

PayloadFor = Callable[[list[dict[str, Any]], np.ndarray], Payload]
# The run's payload kinds, in the order they are measured: a contestant that explains
# (benchmarks.serving.variants) serves its explanations before its plain single rows, so
# those plain rows show whether having explained left any cost behind on the worker.
KINDS = ("explain", "single", "batch")


@dataclass(frozen=True)
class Contestant:
    name: str
    title: str
    versions: tuple[tuple[str, str], ...]  # (python executable, distribution) pairs to report
    command: Callable[[int, Path], list[str]]
    payload: PayloadFor
    probabilities: Callable[[Any], list[float]]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = REPO_ROOT
    prepare: Callable[[Path, int], None] | None = None
    setup_note: str = ""
    # The payload kinds it is timed on; the parity check always sends it the batch.
    kinds: tuple[str, ...] = ("single", "batch")
    # A kind's payload when it is not ``payload``'s (the explain requests of a variant).
    kind_payloads: Mapping[str, PayloadFor] = field(default_factory=dict)
    # After the parity check, given the server's base URL: facts to report, or BenchError
    # when the server does not do what this contestant claims (drift counters, reasons).
    verify: Callable[[str], dict[str, Any]] | None = None
    # Environment that names the contestant's own work folder (a model copy ``prepare`` made).
    workdir_env: Callable[[Path], dict[str, str]] | None = None

    def payload_for(
        self, kind: str, customers: list[dict[str, Any]], matrix: np.ndarray
    ) -> Payload:
        return self.kind_payloads.get(kind, self.payload)(customers, matrix)
