"""Model artifacts: nothing is unpickled before its checksum and versions are verified."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest

from bankchurn.artifacts import (
    CARD_FILE,
    MODEL_FILE,
    ModelLoadError,
    load_pipeline,
    read_card,
    runtime_versions,
    sha256_of,
)
from bankchurn.predictor import load_predictor, predict_records
from bankchurn.schema import EXAMPLE_CUSTOMER


def copy_model(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def edit_card(model_dir: Path, **changes: Any) -> None:
    card = json.loads((model_dir / CARD_FILE).read_text())
    card.update(changes)
    (model_dir / CARD_FILE).write_text(json.dumps(card))


def load_error(model_dir: Path) -> ModelLoadError:
    with pytest.raises(ModelLoadError) as caught:
        load_pipeline(model_dir)
    return caught.value


class _Payload:
    """A pickle that runs code when loaded: it creates the file named in its state."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def test_committed_card_matches_the_committed_artifact(committed_model_dir: Path) -> None:
    card = read_card(committed_model_dir)
    entry = card["artifacts"][MODEL_FILE]
    assert sha256_of(committed_model_dir / MODEL_FILE) == entry["sha256"]
    assert (committed_model_dir / MODEL_FILE).stat().st_size == entry["bytes"]


def test_committed_model_loads_under_the_locked_libraries(committed_model_dir: Path) -> None:
    card = read_card(committed_model_dir)
    running = runtime_versions()
    assert card["versions"]["scikit-learn"] == running["scikit-learn"]
    predictor = load_predictor(committed_model_dir)
    (probability,) = predict_records(predictor, [EXAMPLE_CUSTOMER])
    assert 0.0 < probability < 1.0


def test_a_tampered_pickle_is_refused_before_it_can_run(
    committed_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = copy_model(committed_model_dir, tmp_path / "model")
    marker = tmp_path / "pwned"
    (model_dir / MODEL_FILE).write_bytes(pickle.dumps(_Payload(marker)))
    error = load_error(model_dir)
    assert error.reason == "checksum_mismatch"
    assert "was modified or replaced after training. Refusing to load it" in str(error)
    assert not marker.exists(), "the tampered pickle was executed"


def test_a_single_flipped_byte_is_detected(committed_model_dir: Path, tmp_path: Path) -> None:
    model_dir = copy_model(committed_model_dir, tmp_path / "model")
    data = bytearray((model_dir / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0x01
    (model_dir / MODEL_FILE).write_bytes(bytes(data))
    assert load_error(model_dir).reason == "checksum_mismatch"


def test_a_model_from_another_scikit_learn_is_refused(
    committed_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = copy_model(committed_model_dir, tmp_path / "model")
    card = read_card(model_dir)
    edit_card(model_dir, versions={**card["versions"], "scikit-learn": "1.5.0"})
    error = load_error(model_dir)
    assert error.reason == "version_mismatch"
    assert str(error).startswith(
        f"the model was trained with scikit-learn 1.5.0, this environment has "
        f"{runtime_versions()['scikit-learn']} (policy: exact match)"
    )


def test_numpy_may_differ_in_patch_but_not_in_minor(
    committed_model_dir: Path, tmp_path: Path
) -> None:
    model_dir = copy_model(committed_model_dir, tmp_path / "model")
    card = read_card(model_dir)
    major, minor, *_ = runtime_versions()["numpy"].split(".")
    edit_card(model_dir, versions={**card["versions"], "numpy": f"{major}.{minor}.999"})
    pipeline, _ = load_pipeline(model_dir)
    assert hasattr(pipeline, "predict_proba")
    edit_card(model_dir, versions={**card["versions"], "numpy": f"{major}.{int(minor) + 1}.0"})
    error = load_error(model_dir)
    assert error.reason == "version_mismatch"
    assert "(policy: minor match)" in str(error)


def test_a_missing_card_says_how_to_get_a_model(tmp_path: Path) -> None:
    error = load_error(tmp_path)
    assert error.reason == "card_missing"
    assert "train a model" in str(error)
    assert "BANKCHURN_MODEL_DIR" in str(error)


def test_a_missing_artifact_is_named(committed_model_dir: Path, tmp_path: Path) -> None:
    model_dir = copy_model(committed_model_dir, tmp_path / "model")
    (model_dir / MODEL_FILE).unlink()
    error = load_error(model_dir)
    assert error.reason == "artifact_missing"
    assert f"{model_dir / MODEL_FILE} is missing" in str(error)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "is not a bankchurn model card"),
        ('{"card_schema_version": 99}', "is not a bankchurn model card"),
    ],
)
def test_an_invalid_card_is_refused(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / CARD_FILE).write_text(content)
    error = load_error(tmp_path)
    assert error.reason == "card_invalid"
    assert expected in str(error)


def test_a_card_without_a_checksum_is_refused(committed_model_dir: Path, tmp_path: Path) -> None:
    model_dir = copy_model(committed_model_dir, tmp_path / "model")
    edit_card(model_dir, artifacts={})
    error = load_error(model_dir)
    assert error.reason == "card_invalid"
    assert str(error) == f"the model card lists no sha256 for {MODEL_FILE}"
