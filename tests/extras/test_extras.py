"""Each extra of pyproject.toml works on its own, installed from its lock into a fresh venv.

For serve-onnx (requirements-onnx.txt), train (requirements-train.txt) and serve
(requirements.txt): a new venv gets the lock with --require-hashes, then bankchurn's wheel
with --no-deps (nothing unlocked is downloaded), then ``pip install --no-index WHEEL[extra]``:
with no index to fetch from, pip succeeds only when the lock already installed every
requirement of the extra, so a lock that misses one fails here, naming it. Then each venv
does its job: ``bankchurn train`` on a small synthetic CSV in the train venv, and both
serving venvs answer a prediction for that model over HTTP, outside the repository (the
installed package, not the source tree). The dev extra is checked against make setup's venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bankchurn.schema import EXAMPLE_CUSTOMER
from tooling.net import free_port, wait_until
from tooling.paths import REPO_ROOT

LOCKS = {"serve-onnx": "requirements-onnx.txt", "train": "requirements-train.txt",
         "serve": "requirements.txt"}  # fmt: skip
# The host's pip settings, minus a local wheel folder that could stand in for a missing pin.
PIP_ENV = {key: value for key, value in os.environ.items() if key != "PIP_FIND_LINKS"}


def run(*command: str | Path, cwd: Path | None = None, **env: str) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env={**PIP_ENV, **env},
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bankchurn's wheel, built with the dev venv's locked setuptools (no build isolation),
    from a copy of the sources: setuptools writes build/ beside the pyproject.toml it builds."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    for name in ("src", "app"):
        shutil.copytree(REPO_ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))  # fmt: skip
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--wheel-dir", out, source)  # fmt: skip
    [built] = out.glob("bankchurn-*.whl")
    return built


def install(venv: Path, extra: str, wheel: Path) -> Path:
    # The dev venv's pip installs into the new one (pip --python): no ensurepip, no pip in it.
    # --no-compile: bytecode is written on first import instead, for the few modules used.
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    pip = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install",
           "--quiet", "--disable-pip-version-check", "--no-compile"]  # fmt: skip
    run(*pip, "--require-hashes", "-r", REPO_ROOT / LOCKS[extra])
    run(*pip, "--no-deps", wheel)
    # No index: every requirement of the extra must already be there, from the lock.
    run(*pip, "--no-index", f"{wheel}[{extra}]")
    return venv / "bin"


@pytest.fixture(scope="module")
def venvs(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> dict[str, Path]:
    """Each extra's venv ``bin`` folder, installed side by side (pip mostly waits on I/O)."""
    root = tmp_path_factory.mktemp("venvs")
    with ThreadPoolExecutor(max_workers=len(LOCKS)) as pool:
        futures = {extra: pool.submit(install, root / extra, extra, wheel) for extra in LOCKS}
        return {extra: future.result() for extra, future in futures.items()}


# The default config's algorithm with fewer trees and folds: the extra is under test, not the model.
SMALL_CONFIG = """\
name: extras-smoke
seed: 7
split: {test_size: 0.2, cv_folds: 3}
estimator:
  type: hist_gradient_boosting
  params: {max_iter: 40, max_leaf_nodes: 8, early_stopping: false}
threshold: {policy: max_f1}
champion_metric: roc_auc
"""


@pytest.fixture(scope="module")
def trained(venvs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained by the train venv's `bankchurn`: pandas, the YAML config, the ONNX
    export and its onnxruntime parity check all come from the train extra's lock."""
    work = tmp_path_factory.mktemp("train")
    (work / "train.yaml").write_text(SMALL_CONFIG)
    bankchurn = venvs["train"] / "bankchurn"
    run(bankchurn, "data", "synth", "--rows", "1500", "--seed", "7", "--out", "data.csv", cwd=work)
    run(bankchurn, "train", "--data", "data.csv", "--out", "model", "--config", "train.yaml",
        cwd=work, OMP_NUM_THREADS="1")  # fmt: skip
    assert {path.name for path in work.iterdir()} == {"train.yaml", "data.csv", "model"}
    return work / "model"


def test_the_train_extra_trains_and_exports_onnx(trained: Path) -> None:
    card = json.loads((trained / "model_card.json").read_text())
    assert set(card["artifacts"]) == {"model.joblib", "model.onnx"}
    assert card["onnx"]["parity"]["passed"] is True


@pytest.fixture
def server(venvs: dict[str, Path], trained: Path, tmp_path: Path) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def start(extra: str, backend: str) -> str:
        port = free_port()
        bin_dir = venvs[extra]
        log_config = run(bin_dir / "python", "-c",
                         "from importlib.resources import files; "
                         "print(files('app') / 'uvicorn_logging.json')").strip()  # fmt: skip
        process = subprocess.Popen(
            [bin_dir / "python", "-m", "uvicorn", "app.fastapi_app:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-config", log_config],
            # Outside the repository: the installed package serves, not the source tree.
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=(tmp_path / f"{extra}.log").open("wb"),
            env={**os.environ, "BANKCHURN_BACKEND": backend, "BANKCHURN_MODEL_DIR": str(trained),
                 "BANKCHURN_DRAIN_SECONDS": "0"},
        )  # fmt: skip
        started.append(process)
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool | None:
            assert process.poll() is None, (tmp_path / f"{extra}.log").read_text()[-3000:]
            return httpx.get(f"{url}/ready", timeout=5).status_code == 200 or None

        assert wait_until(ready, timeout=90, interval=0.2, ignore=(httpx.TransportError,)), (
            tmp_path / f"{extra}.log"
        ).read_text()[-3000:]
        return url

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=20)


def test_both_serving_extras_answer_the_same_prediction_over_http(server, venvs) -> None:
    # The ONNX venv holds no scikit-learn, scipy, pandas or joblib at all.
    absent = run(
        venvs["serve-onnx"] / "python",
        "-c",
        "import importlib.util as u; "
        "print([m for m in ('sklearn', 'scipy', 'pandas', 'joblib') if u.find_spec(m)])",
    )
    assert absent.strip() == "[]"

    answers = {}
    for extra, backend in (("serve-onnx", "onnx"), ("serve", "sklearn")):
        response = httpx.post(
            f"{server(extra, backend)}/predict", json=EXAMPLE_CUSTOMER, timeout=30
        )
        assert response.status_code == 200, response.text
        answers[backend] = response.json()
    onnx, sklearn = answers["onnx"], answers["sklearn"]
    assert onnx["model_version"] == sklearn["model_version"]
    assert abs(onnx["churn_probability"] - sklearn["churn_probability"]) <= 1e-5
    assert onnx["churn"] == sklearn["churn"]


def test_the_dev_lock_covers_the_dev_extra() -> None:
    """make setup's venv (requirements-dev.txt): every requirement of [dev] is installed."""
    run(sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--no-index",
        "--no-build-isolation", f"{REPO_ROOT}[dev]")  # fmt: skip
