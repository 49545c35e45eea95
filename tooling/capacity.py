"""One pod's measured capacity: what the serving benchmark writes and deploy/k8s is sized from.

The record lives here, typed, so the writer (benchmarks/serving) and the reader
(tooling.sizing) cannot disagree on its keys. docs/benchmarks.json holds it as its
``capacity`` object, in this field order.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.paths import DOCS

BENCHMARKS_JSON = DOCS / "benchmarks.json"


@dataclass(frozen=True)
class Capacity:
    """One worker on one pinned core, as the serving benchmark measured it."""

    contestant: str
    workers: int
    cpus: float
    connections: int
    single_row_rps: float
    batch100_rps: float
    fixed_rate_rps: float
    p99_ms_at_fixed_rate: float
    cold_start_s: float
    cold_start_of: str  # the image whose container was timed, or "process"
    rss_idle_mib: float
    rss_loaded_mib: float

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, measured: dict[str, Any]) -> Capacity:
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in measured]
        if missing:
            raise ValueError(f"the capacity record lacks {missing}: re-run the serving benchmark")
        return cls(**{f.name: measured[f.name] for f in dataclasses.fields(cls)})


def read_capacity(path: Path | None = None) -> Capacity:
    """docs/benchmarks.json's (or ``path``'s) ``capacity`` object."""
    path = path or BENCHMARKS_JSON
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the benchmark writes it (make bench)")
    return Capacity.from_json(json.loads(path.read_text())["capacity"])
