"""The sidecar's loop (infra/train/follow.py): re-export on an interval, prune, never stop.

The export itself is infra/train/job.py's, proven against a real MLflow by
tests/compose/test_stack.py; here a stand-in job publishes versions through bankchurn.publish's
``publish_version`` (what job.py calls), so the folder the API follows changes exactly as in a pod.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest

from bankchurn import publish as publisher
from infra.train import follow as follower
from tooling.paths import REPO_ROOT

TRAIN_JOB = REPO_ROOT / "infra" / "train" / "job.py"


@pytest.fixture
def follow() -> ModuleType:
    """infra/train/follow.py, imported as a module (tests replace parts with monkeypatch)."""
    return follower


@pytest.fixture
def job() -> ModuleType:
    """What job.py publishes with: bankchurn.publish (job.py is a thin entrypoint over it)."""
    return publisher


def publish(job: ModuleType, export_dir: Path, version: str) -> None:
    staging = export_dir / f".export-{version}"
    staging.mkdir(parents=True)
    (staging / "model_card.json").write_text(f'{{"version": "{version}"}}')
    job.publish_version(staging, export_dir, version)


def test_each_check_publishes_the_champion_and_the_link_follows(follow, job, tmp_path, monkeypatch):
    champions = iter(["1", "1", "2", "3"])  # what the alias names at each check
    stop = threading.Event()

    def export_once() -> int:
        version = next(champions, None)
        if version is None:
            stop.set()
            return 0
        if not (tmp_path / "versions" / version).exists():
            publish(job, tmp_path, version)
        return 0

    monkeypatch.setattr(follow, "export_once", export_once)
    follow.follow(tmp_path, 0.01, stop)

    assert os.readlink(tmp_path / "champion") == "versions/3"
    # The champion's folder and the newest other one are kept; older ones are pruned.
    assert sorted(path.name for path in (tmp_path / "versions").iterdir()) == ["2", "3"]


def test_a_failed_check_is_retried_and_keeps_what_is_published(
    follow, job, tmp_path, capsys, monkeypatch
):
    publish(job, tmp_path, "1")
    codes = iter([2, 2])
    stop = threading.Event()

    def export_once() -> int:
        code = next(codes, None)
        if code is None:
            stop.set()
            return 0
        return code

    monkeypatch.setattr(follow, "export_once", export_once)
    follow.follow(tmp_path, 0.01, stop)

    assert os.readlink(tmp_path / "champion") == "versions/1"
    assert capsys.readouterr().err.count("follow: export failed (exit 2); retrying in 0.01 s") == 2


def test_prune_never_removes_the_served_version(follow, job, tmp_path):
    for version in ("1", "2", "3"):
        publish(job, tmp_path, version)
        time.sleep(0.01)  # distinct mtimes
    (tmp_path / "champion").unlink()
    (tmp_path / "champion").symlink_to("versions/1")  # rolled back to the oldest

    removed = follow.prune(tmp_path)

    assert [path.name for path in removed] == ["2"]
    assert sorted(path.name for path in (tmp_path / "versions").iterdir()) == ["1", "3"]


def test_each_check_runs_the_export_job_in_a_child_process(follow, tmp_path, monkeypatch):
    script = tmp_path / "job.py"
    marker = tmp_path / "ran"
    script.write_text(
        f"import sys\nopen({str(marker)!r}, 'w').write(' '.join(sys.argv[1:]))\nsys.exit(3)\n"
    )
    monkeypatch.setattr(follow, "JOB", script)

    assert follow.export_once() == 3
    assert marker.read_text() == "--export-only"


@pytest.mark.parametrize("value", ["0", "abc", "100000"])
def test_an_unusable_interval_is_refused(follow, monkeypatch, capsys, value):
    monkeypatch.setenv("FOLLOW_SECONDS", value)

    assert follow.main() == 2
    assert "FOLLOW_SECONDS must be a number of seconds in [1, 86400]" in capsys.readouterr().err


def test_the_script_runs_with_the_standard_library_only(tmp_path):
    """The training image runs it as `python /opt/bankchurn/follow.py`: no bankchurn import."""
    source = TRAIN_JOB.with_name("follow.py").read_text()
    imported = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from "))
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
