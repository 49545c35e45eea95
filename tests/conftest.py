"""Fixtures shared by every suite: the committed model and small synthetic datasets, and a
guard that no test leaves MLflow's files in the repository root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tooling.paths import REPO_ROOT

COMMITTED_MODEL_DIR = REPO_ROOT / "models"
# What MLflow writes into the working folder when nothing says otherwise.
MLFLOW_LEFTOVERS = ("mlruns", "mlartifacts", "mlflow.db")


def _leftovers() -> set[Path]:
    found: set[Path] = set()
    for name in MLFLOW_LEFTOVERS:
        path = REPO_ROOT / name
        if path.exists():
            found |= {path, *path.rglob("*")} if path.is_dir() else {path}
    return found


@pytest.fixture(scope="session", autouse=True)
def _repository_root_gains_no_mlflow_files() -> Iterator[None]:
    """Fails the run when a test (or a CLI default it exercises) wrote MLflow runs into the
    repository root: tracking stores and their artifacts belong in the test's tmp_path."""
    before = _leftovers()
    yield
    new = sorted(str(path.relative_to(REPO_ROOT)) for path in _leftovers() - before)
    assert not new, f"the tests left MLflow files in the repository root: {new[:5]}"


@pytest.fixture(scope="session")
def committed_model_dir() -> Path:
    """The model a fresh clone serves; tests of broken models copy it, never edit it."""
    return COMMITTED_MODEL_DIR
