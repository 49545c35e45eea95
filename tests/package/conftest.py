"""Fixtures for the model package: small synthetic data and a quickly trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankchurn.card import save_model
from bankchurn.config import TrainConfig
from bankchurn.data import Dataset, load_csv
from bankchurn.synth import write_csv
from bankchurn.train import TrainResult, train

# Small and quick: these tests check behaviour, not the quality bar (the committed
# model and `make acceptance` do that).
FAST_CONFIG = TrainConfig.model_validate(
    {
        "name": "test-fast",
        "seed": 7,
        "split": {"test_size": 0.25, "cv_folds": 3},
        "estimator": {"type": "hist_gradient_boosting", "params": {"max_iter": 40}},
    }
)


@pytest.fixture(scope="session")
def fast_config() -> TrainConfig:
    return FAST_CONFIG


@pytest.fixture(scope="session")
def synthetic_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "synthetic.csv"
    write_csv(path, rows=3000, seed=7)
    return path


@pytest.fixture(scope="session")
def synthetic_dataset(synthetic_csv: Path) -> Dataset:
    return load_csv(synthetic_csv)


@pytest.fixture(scope="session")
def fast_training(synthetic_dataset: Dataset) -> TrainResult:
    return train(synthetic_dataset, FAST_CONFIG)


@pytest.fixture(scope="session")
def fast_model_dir(
    tmp_path_factory: pytest.TempPathFactory, fast_training: TrainResult, synthetic_dataset: Dataset
) -> Path:
    out = tmp_path_factory.mktemp("model")
    save_model(fast_training, synthetic_dataset, FAST_CONFIG, out)
    return out
