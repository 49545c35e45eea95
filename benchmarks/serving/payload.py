"""One request a contestant is sent: its own module, free of the app's imports.

benchmarks/callgrind_child.py drives the code of an older commit in process
(benchmarks.serving.inprocess); that code lacks modules the adapters import
(app.v2_codec), so what the driver needs is kept apart from them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Payload:
    """One request: where it goes, its body, and how to read probabilities back."""

    path: str
    body: bytes
    rows: int
