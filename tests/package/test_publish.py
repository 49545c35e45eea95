"""Publishing the champion: a verified export, switched over by one atomic symlink rename."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bankchurn.card import save_model
from bankchurn.cli import main
from bankchurn.config import TrainConfig
from bankchurn.data import Dataset
from bankchurn.predictor import load_predictor
from bankchurn.publish import CHAMPION_LINK, CHAMPION_URI, publish_champion, publish_version
from bankchurn.registry import RegistryError, log_and_register
from bankchurn.train import train


def staged(export_dir: Path, name: str, content: str) -> Path:
    folder = export_dir / name
    folder.mkdir(parents=True)
    (folder / "model_card.json").write_text(content)
    return folder


def test_the_champion_link_is_relative_and_names_the_published_version(tmp_path: Path) -> None:
    target = publish_version(staged(tmp_path, ".export-1", "one"), tmp_path, "3")

    link = tmp_path / CHAMPION_LINK
    assert target == tmp_path / "versions" / "3"
    assert os.readlink(link) == os.path.join("versions", "3")
    assert (link / "model_card.json").read_text() == "one"
    assert not (tmp_path / ".export-1").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_version_published_twice_keeps_the_copy_already_served(tmp_path: Path) -> None:
    publish_version(staged(tmp_path, ".export-1", "first download"), tmp_path, "3")
    publish_version(staged(tmp_path, ".export-2", "second download"), tmp_path, "3")

    assert (tmp_path / CHAMPION_LINK / "model_card.json").read_text() == "first download"
    assert not (tmp_path / ".export-2").exists()


def test_a_new_champion_repoints_the_link_and_keeps_the_old_version(tmp_path: Path) -> None:
    publish_version(staged(tmp_path, ".export-1", "v1"), tmp_path, "1")
    publish_version(staged(tmp_path, ".export-2", "v2"), tmp_path, "2")

    assert (tmp_path / CHAMPION_LINK / "model_card.json").read_text() == "v2"
    assert (tmp_path / "versions" / "1" / "model_card.json").read_text() == "v1"


def test_publishing_the_registered_champion_serves_it_from_the_link(
    tmp_path: Path, synthetic_dataset: Dataset, fast_config: TrainConfig
) -> None:
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = train(synthetic_dataset, fast_config)
    card = save_model(result, synthetic_dataset, fast_config, tmp_path / "trained")
    provenance = log_and_register(tracking, result, card, tmp_path / "trained")
    export_dir = tmp_path / "published"

    target = publish_champion(tracking, export_dir)

    assert target.name == provenance["registered_version"]
    predictor = load_predictor(export_dir / CHAMPION_LINK)
    assert predictor.card["model_version"] == card["model_version"]
    assert predictor.card["mlflow"]["exported_from"] == CHAMPION_URI


def test_a_failed_export_leaves_no_staging_folder_and_no_link(tmp_path: Path) -> None:
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"

    with pytest.raises(RegistryError, match="not found in the registry"):
        publish_champion(tracking, tmp_path / "published")

    assert list((tmp_path / "published").glob(".export-*")) == []
    assert not (tmp_path / "published" / CHAMPION_LINK).exists()


def test_the_cli_needs_a_tracking_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)

    code = main(["model", "publish", "--export-dir", str(tmp_path)])

    assert code == 2
    assert "pass --tracking-uri or set MLFLOW_TRACKING_URI" in capsys.readouterr().err
