"""Plotting is training-side only: matplotlib and what only it pulls in are locked for
training and development, and absent from both serving locks (so from the serving images)."""

from __future__ import annotations

import re

import pytest

from tooling.paths import REPO_ROOT

# matplotlib and the dependencies nothing on the serving side needs.
PLOTTING = {"matplotlib", "contourpy", "cycler", "fonttools", "kiwisolver", "pillow", "pyparsing"}
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)


def locked(lock: str) -> set[str]:
    names = {name.lower() for name in PINNED.findall((REPO_ROOT / lock).read_text())}
    assert names, f"{lock} pins nothing: the parser no longer reads it"
    return names


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-onnx.txt"])
def test_serving_locks_carry_no_plotting_library(lock: str) -> None:
    assert locked(lock) & PLOTTING == set()


@pytest.mark.parametrize("lock", ["requirements-train.txt", "requirements-dev.txt"])
def test_training_and_dev_locks_carry_matplotlib(lock: str) -> None:
    assert "matplotlib" in locked(lock)
