"""The one error every benchmark raises for a failed precondition or a failed run."""

from __future__ import annotations


class BenchError(RuntimeError):
    """A precondition, a contestant or a docker command failed: the message says which and what
    to do."""
