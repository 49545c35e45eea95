"""MLflow tracking and registry against real backends: a sqlite store and a real server."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from bankchurn.card import save_model
from bankchurn.cli import main
from bankchurn.config import TrainConfig
from bankchurn.data import Dataset
from bankchurn.predictor import load_predictor
from bankchurn.registry import (
    CHAMPION_ALIAS,
    REGISTERED_MODEL,
    RegistryError,
    export_model,
    log_and_register,
)
from bankchurn.train import TrainResult, train
from tooling.net import free_port, wait_until


def register(
    tracking_uri: str, dataset: Dataset, config: TrainConfig, out: Path
) -> tuple[TrainResult, dict[str, object]]:
    result = train(dataset, config)
    card = save_model(result, dataset, config, out)
    return result, log_and_register(tracking_uri, result, card, out)


def champion_version(tracking_uri: str) -> str:
    client = MlflowClient(tracking_uri)
    return str(client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS).version)


def test_champion_moves_only_to_a_strictly_better_model(
    tmp_path: Path, synthetic_dataset: Dataset, fast_config: TrainConfig
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    weak = TrainConfig.model_validate(
        {
            **fast_config.model_dump(),
            "estimator": {"type": "hist_gradient_boosting", "params": {"max_iter": 2}},
        }
    )

    _, first = register(uri, synthetic_dataset, weak, tmp_path / "v1")
    assert first["registered_version"] == "1"
    assert first["champion_challenger"]["promoted"] is True
    assert first["champion_challenger"]["previous_champion_version"] is None

    _, second = register(uri, synthetic_dataset, fast_config, tmp_path / "v2")
    decision = second["champion_challenger"]
    assert second["registered_version"] == "2"
    assert decision["promoted"] is True
    assert decision["previous_champion_version"] == "1"
    assert decision["score"] > decision["previous_champion_score"]

    _, third = register(uri, synthetic_dataset, weak, tmp_path / "v3")
    assert third["registered_version"] == "3"
    assert third["champion_challenger"]["promoted"] is False
    assert champion_version(uri) == "2"
    client = MlflowClient(uri)
    tag = client.get_model_version(REGISTERED_MODEL, "3").tags["champion_decision"]
    assert tag == "kept as challenger"


def test_run_holds_params_metrics_card_and_an_mlflow_model(
    tmp_path: Path, synthetic_dataset: Dataset, fast_config: TrainConfig
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result, provenance = register(uri, synthetic_dataset, fast_config, tmp_path / "model")
    run = MlflowClient(uri).get_run(str(provenance["run_id"]))
    assert run.data.params["estimator.params.max_iter"] == "40"
    assert run.data.params["seed"] == "7"
    assert run.data.metrics["holdout_roc_auc"] == pytest.approx(
        result.metrics["holdout"]["roc_auc"]
    )
    local_card = load_predictor(tmp_path / "model").card
    assert local_card["mlflow"]["run_id"] == provenance["run_id"]

    import mlflow.sklearn

    flavour = mlflow.sklearn.load_model(f"runs:/{provenance['run_id']}/model")
    assert np.array_equal(flavour.predict_proba(result.holdout_matrix)[:, 1], result.holdout_scores)


def test_export_of_the_champion_serves_identical_predictions(
    tmp_path: Path, synthetic_dataset: Dataset, fast_config: TrainConfig
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result, provenance = register(uri, synthetic_dataset, fast_config, tmp_path / "trained")
    card = export_model(uri, "models:/bankchurn@champion", tmp_path / "exported")
    assert card["mlflow"]["registered_version"] == provenance["registered_version"]
    assert card["mlflow"]["aliases"] == ["champion"]
    predictor = load_predictor(tmp_path / "exported")
    assert predictor.card["model_version"] == card["model_version"]
    assert np.array_equal(predictor.predict_proba(result.holdout_matrix), result.holdout_scores)
    # The ONNX twin travels with it through the run's artifact folder, still verified.
    assert set(card["artifacts"]) == {"model.joblib", "model.onnx"}
    onnx = load_predictor(tmp_path / "exported", backend="onnx")
    assert np.allclose(onnx.predict_proba(result.holdout_matrix), result.holdout_scores, atol=1e-5)
    by_number = export_model(uri, "models:/bankchurn/1", tmp_path / "by-number")
    assert by_number["model_version"] == card["model_version"]


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("runs:/abc/model", "is not a registry URI like models:/bankchurn@champion"),
        ("models:/bankchurn@nobody", "models:/bankchurn@nobody not found in the registry"),
        ("models:/bankchurn/42", "models:/bankchurn/42 not found in the registry"),
    ],
)
def test_export_of_an_unknown_model_is_a_clear_error(
    tmp_path: Path, uri: str, expected: str
) -> None:
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(tracking).create_registered_model(REGISTERED_MODEL)
    with pytest.raises(RegistryError, match=expected):
        export_model(tracking, uri, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `mlflow server` on loopback, with a sqlite store and proxied artifacts."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = (root / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool | None:
        """True once /health answers 200; False when the server exited; None: not yet."""
        if server.poll() is not None:
            return False
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return True if response.status == 200 else None

    # OSError: not listening yet.
    if not wait_until(healthy, timeout=90, interval=0.5, ignore=(OSError,)):
        server.kill()
        pytest.fail(f"mlflow server did not start:\n{(root / 'server.log').read_text()}")
    yield url
    server.terminate()
    server.wait(timeout=30)
    log.close()


@pytest.mark.mlflow_server
def test_cli_trains_registers_and_exports_through_a_real_server(
    mlflow_server: str, synthetic_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "fast.yaml"
    config.write_text(
        "name: server-test\nseed: 7\nsplit: {cv_folds: 3}\n"
        "estimator: {type: hist_gradient_boosting, params: {max_iter: 40}}\n"
    )
    trained = tmp_path / "trained"
    assert (
        main(
            [
                "train",
                "--data",
                str(synthetic_csv),
                "--out",
                str(trained),
                "--config",
                str(config),
                "--tracking-uri",
                mlflow_server,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "registered bankchurn version 1, promoted to champion" in out

    exported = tmp_path / "exported"
    assert main(["model", "export", "--tracking-uri", mlflow_server, "--out", str(exported)]) == 0
    assert "exported models:/bankchurn@champion (version 1" in capsys.readouterr().out
    served = load_predictor(exported)
    assert served.card["mlflow"]["registered_version"] == "1"
    assert served.card["model_version"] == load_predictor(trained).card["model_version"]
    assert (exported / "model.joblib").read_bytes() == (trained / "model.joblib").read_bytes()


def test_a_local_store_keeps_its_artifacts_beside_the_database_not_in_the_working_folder(
    tmp_path: Path,
    synthetic_dataset: Dataset,
    fast_config: TrainConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MLflow's default artifact root for a database store is ./mlruns of whatever folder the
    process runs in: `make test` left one in the repository root. The runs' files belong to
    the store they describe."""
    store = tmp_path / "store"
    store.mkdir()
    working = tmp_path / "elsewhere"
    working.mkdir()
    monkeypatch.chdir(working)
    uri = f"sqlite:///{store / 'mlflow.db'}"

    _, provenance = register(uri, synthetic_dataset, fast_config, tmp_path / "model")

    assert list(working.iterdir()) == []
    experiment = MlflowClient(uri).get_experiment_by_name("bankchurn")
    assert experiment is not None
    assert experiment.artifact_location == (store / "mlruns").as_uri()
    run = MlflowClient(uri).get_run(str(provenance["run_id"]))
    assert run.info.artifact_uri.startswith((store / "mlruns").as_uri())
    assert (store / "mlruns").is_dir()
