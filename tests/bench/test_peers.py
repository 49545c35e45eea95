"""Every peer of the serving benchmark is installable the way `make bench` installs it:
its own hash-locked requirements, listed in the Makefile, pinned to the libraries that
pickled models/model.joblib, and a contestant of that name."""

from __future__ import annotations

import re

import pytest

from benchmarks.serving.contestants import contestants
from tooling.paths import BENCHMARKS_DIR, REPO_ROOT

PEER_DIRS = sorted(path.parent for path in (BENCHMARKS_DIR / "peers").glob("*/requirements.in"))
MODEL_LIBRARIES = ("scikit-learn", "numpy", "scipy", "joblib")


def pins(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s;\\]+)", text, re.M))


def test_every_peer_is_built_by_make_bench():
    makefile = (REPO_ROOT / "Makefile").read_text()
    [listed] = re.findall(r"^BENCH_PEERS := (.*)$", makefile, re.M)
    assert sorted(listed.split()) == [path.name for path in PEER_DIRS]
    assert {"litserve", "rayserve"} <= set(listed.split())


@pytest.mark.parametrize("peer", PEER_DIRS, ids=lambda path: path.name)
def test_a_peer_is_locked_with_hashes_on_the_models_libraries(peer):
    lock = (peer / "requirements.txt").read_text()
    ours = pins((REPO_ROOT / "requirements.txt").read_text())
    locked = pins(lock)
    hashed = re.findall(r"^([a-z0-9][a-z0-9._-]*)==[^\n]* \\\n\s+--hash=sha256:", lock, re.M)
    assert locked
    assert sorted(set(hashed)) == sorted(locked)  # --require-hashes needs them all
    for library in MODEL_LIBRARIES:
        assert locked[library] == ours[library], library
    names = {contestant.name for contestant in contestants()}
    assert peer.name in names
