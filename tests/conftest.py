"""Fixtures shared by every suite: the committed model and small synthetic datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMITTED_MODEL_DIR = REPO_ROOT / "models"


@pytest.fixture(scope="session")
def committed_model_dir() -> Path:
    """The model a fresh clone serves; tests of broken models copy it, never edit it."""
    return COMMITTED_MODEL_DIR
