"""Training configuration: the committed file is valid; a bad one names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankchurn.config import ConfigError, load_config


def test_the_default_config_file_is_valid() -> None:
    config = load_config(Path("configs/train.yaml"))
    assert config.estimator.type == "hist_gradient_boosting"
    assert config.split.cv_folds == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("estimator: {type: xgboost}", "estimator.type: Input should be"),
        ("split: {test_size: 0.9}", "split.test_size: Input should be less than 0.5"),
        ("seeed: 3", "seeed: Extra inputs are not permitted"),
        ("threshold: {policy: min_recall}", "needs threshold.min_recall"),
        ("threshold: {policy: fixed}", "needs threshold.value"),
        ("name: [unclosed", "is not valid YAML"),
    ],
)
def test_a_bad_config_names_the_file_and_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(str(path))
    assert expected in str(caught.value)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
