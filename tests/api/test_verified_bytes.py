"""Only verified bytes are ever unpickled, even while another process swaps the file.

A second process replaces ``model.joblib`` (by atomic rename, or by re-pointing a
symlink) back and forth between the genuine artifact and a harmless pickle that creates
a marker file when it is unpickled, as fast as it can. Every loader the service has
(the package's, the CLI's, the API's start-up, the API's hot reload) then loads the model
a hundred times or more per swap mode. Each load must either give the genuine model or be
refused as ``checksum_mismatch``, and each loader must have been refused at least once
(proof that the swapper really raced it); the marker must never appear. Before the
loader unpickled the bytes it had hashed, this ran the foreign pickle in 37 of 300 loads
(130 of 300 with a symlink).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import joblib
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from app.fastapi_app import create_app
from app.settings import Settings
from bankchurn.artifacts import MODEL_FILE, ModelLoadError, load_pipeline
from bankchurn.cli import main as cli_main
from bankchurn.predictor import load_predictor, predict_records
from bankchurn.schema import EXAMPLE_CUSTOMER
from bankchurn.synth import write_csv

# Each loader runs until it has made its number of loads and been refused at least once: a
# count, not a time, so a slow machine runs longer instead of racing fewer loads. The cap
# only stops a hung loader (or a swapper that never races it).
TIME_CAP = 120.0
PACKAGE_LOADS, CLI_LOADS, START_UPS, RELOADS = 100, 100, 50, 100
RELOAD_POLL_SECONDS = 0.01

# Swap as fast as possible: a hard link (file mode) or a symlink (symlink mode) under a
# temporary name, then os.replace onto the target, which is atomic.
_SWAPPER = """
import os, sys, time
target, genuine, foreign, mode, stop = sys.argv[1:]
scratch, swaps, deadline = target + ".swap", 0, time.monotonic() + 60
while swaps % 64 or not (os.path.exists(stop) or time.monotonic() > deadline):
    source = genuine if swaps % 2 else foreign
    (os.link if mode == "file" else os.symlink)(source, scratch)
    os.replace(scratch, target)
    swaps += 1
print(swaps)
"""


class _Payload:
    """Unpickles into a call that creates the marker file: proof that it ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, (f"open({str(self.marker)!r}, 'a').close()",))


@contextlib.contextmanager
def swapping(model_dir: Path, scratch: Path, mode: str) -> Iterator[Path]:
    """Swap ``model_dir/model.joblib`` in a second process; yield the marker's path."""
    marker, stop = scratch / "foreign-pickle-ran", scratch / "stop"
    genuine, foreign = scratch / "genuine.joblib", scratch / "foreign.joblib"
    shutil.copyfile(model_dir / MODEL_FILE, genuine)
    foreign.write_bytes(pickle.dumps(_Payload(marker)))
    # The foreign pickle really does run when unpickled: this test can fail.
    joblib.load(io.BytesIO(foreign.read_bytes()))
    assert marker.exists()
    marker.unlink()
    if mode == "symlink":  # replaced atomically: a running app must never see it missing
        link = model_dir / f"{MODEL_FILE}.link"
        link.symlink_to(genuine)
        os.replace(link, model_dir / MODEL_FILE)
    swapper = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _SWAPPER,
            str(model_dir / MODEL_FILE),
            str(genuine),
            str(foreign),
            mode,
            str(stop),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield marker
    finally:
        stop.touch()
        out, _ = swapper.communicate(timeout=30)
    assert swapper.returncode == 0
    assert int(out) >= 128, f"the swapper swapped only {out.strip()} times"


def hammer(load: Callable[[], Counter[str]], marker: Path, loads: int) -> Counter[str]:
    """Load until ``loads`` loads were made and one was refused (the swapper raced this
    loader); count outcomes; fail at once if the marker appears."""
    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + TIME_CAP
    while sum(outcomes.values()) < loads or not outcomes["checksum_mismatch"]:
        assert time.monotonic() < deadline, f"only {outcomes} in {TIME_CAP:.0f} s"
        outcomes.update(load())
        assert not marker.exists(), f"an unverified pickle ran after {outcomes}"
    return outcomes


def one(outcome: str) -> Counter[str]:
    return Counter([outcome])


def assert_only_genuine_or_refused(outcomes: Counter[str]) -> None:
    print(f"loads: {sum(outcomes.values())} {dict(outcomes)}")  # the figures, with -s
    assert set(outcomes) <= {"genuine", "checksum_mismatch"}, outcomes


@pytest.fixture
def reference_probability(model_dir: Path) -> float:
    return float(predict_records(load_predictor(model_dir), [EXAMPLE_CUSTOMER])[0])


@pytest.mark.parametrize("mode", ["file", "symlink"])
def test_package_loader_never_unpickles_swapped_bytes(
    mode: str, model_copy: Path, tmp_path: Path, reference_probability: float
) -> None:
    def load() -> Counter[str]:
        try:
            predictor = load_predictor(model_copy)
        except ModelLoadError as error:
            return one(error.reason)
        probability = float(predict_records(predictor, [EXAMPLE_CUSTOMER])[0])
        return one("genuine" if probability == reference_probability else "wrong model")

    with swapping(model_copy, tmp_path, mode) as marker:
        outcomes = hammer(load, marker, PACKAGE_LOADS)
        # load_pipeline itself, the single loader start-up, the CLI and hot reload share.
        outcomes.update(hammer(lambda: _pipeline_outcome(model_copy), marker, PACKAGE_LOADS))
    assert_only_genuine_or_refused(outcomes)


def _pipeline_outcome(model_dir: Path) -> Counter[str]:
    try:
        pipeline, _card = load_pipeline(model_dir)
    except ModelLoadError as error:
        return one(error.reason)
    return one("genuine" if type(pipeline).__name__ == "Pipeline" else "wrong model")


@pytest.mark.parametrize("mode", ["file", "symlink"])
def test_cli_never_unpickles_swapped_bytes(
    mode: str, model_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "labelled.csv"
    write_csv(data, rows=50, seed=3)

    def load() -> Counter[str]:
        code = cli_main(["evaluate", "--model", str(model_copy), "--data", str(data)])
        out, err = capsys.readouterr()
        if code == 0 and '"roc_auc"' in out:
            return one("genuine")
        refused = code == 2 and "sha256" in err
        return one("checksum_mismatch" if refused else f"exit {code}: {err}")

    with swapping(model_copy, tmp_path, mode) as marker:
        outcomes = hammer(load, marker, CLI_LOADS)
    assert_only_genuine_or_refused(outcomes)


@pytest.mark.parametrize("mode", ["file", "symlink"])
def test_api_start_up_never_unpickles_swapped_bytes(
    mode: str, model_copy: Path, tmp_path: Path, settle: Callable[[TestClient], None]
) -> None:
    def start_up() -> Counter[str]:
        app = create_app(Settings(model_dir=model_copy), registry=CollectorRegistry())
        with TestClient(app) as client:
            settle(client)
            ready = client.get("/ready")
        if ready.status_code == 200 and ready.json()["status"] == "ready":
            return one("genuine")
        return one(str(ready.json()["error"]["reason"]))

    with swapping(model_copy, tmp_path, mode) as marker:
        outcomes = hammer(start_up, marker, START_UPS)
    assert_only_genuine_or_refused(outcomes)


def _reload_outcomes(stderr: str) -> Counter[str]:
    """What the app's log says each reload gave: the model, or the reason it was refused."""
    lines = [json.loads(text) for text in stderr.splitlines() if text.startswith("{")]
    return Counter(
        "genuine" if line["message"] == "model reloaded" else str(line["reason"])
        for line in lines
        if line["message"] == "model reloaded" or line["message"].startswith("model reload refused")
    )


@pytest.mark.parametrize("mode", ["file", "symlink"])
def test_hot_reload_never_unpickles_swapped_bytes(
    mode: str,
    model_copy: Path,
    tmp_path: Path,
    make_client: Callable[..., TestClient],
    capsys: pytest.CaptureFixture[str],
    reference_probability: float,
) -> None:
    # The app follows its folder (app/model_reload.py): every swap changes the artifact's
    # inode, so nearly every poll verifies and loads a candidate while the genuine model
    # keeps serving.
    client = make_client(model_dir=model_copy, model_poll_seconds=RELOAD_POLL_SECONDS)
    capsys.readouterr()  # the start-up's lines

    def reloads_so_far() -> Counter[str]:
        time.sleep(0.05)
        return _reload_outcomes(capsys.readouterr().err)

    with swapping(model_copy, tmp_path, mode) as marker:
        outcomes = hammer(reloads_so_far, marker, RELOADS)
    assert_only_genuine_or_refused(outcomes)
    # Still serving, and the model served is the genuine one.
    prediction = client.post("/predict", json=EXAMPLE_CUSTOMER)
    assert prediction.status_code == 200, prediction.text
    assert prediction.json()["churn_probability"] == reference_probability
