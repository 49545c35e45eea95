"""Feature drift's definition: the reference at training, the bin of a value, PSI, the CLI."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bankchurn.cli import main
from bankchurn.data import frame_to_matrix, load_csv
from bankchurn.drift import (
    EPSILON,
    MAX_BINS,
    DriftReference,
    DriftReferenceError,
    psi,
    psi_by_feature,
    reference_from_card,
)
from bankchurn.schema import BY_NAME, FEATURES, NumericFeature
from bankchurn.synth import write_csv
from bankchurn.train import TrainResult
from tooling.paths import REPO_ROOT

COMMITTED_CARD = REPO_ROOT / "models" / "model_card.json"


@pytest.fixture(scope="module")
def card() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(COMMITTED_CARD.read_text())
    return document


@pytest.fixture(scope="module")
def reference(card: dict[str, Any]) -> DriftReference:
    found = reference_from_card(card)
    assert found is not None, "the committed card has no drift_reference: run `make train`"
    return found


def test_the_reference_is_the_training_part_only(fast_training: TrainResult) -> None:
    reference = fast_training.drift_reference
    # FAST_CONFIG holds out 25 % of 3000 rows: 2250 training rows, never the holdout.
    assert reference.rows == 2250
    assert [bins.name for bins in reference.features] == [f.name for f in FEATURES]
    for bins in reference.features:
        assert 2 <= len(bins.labels) <= MAX_BINS, bins.name
        assert math.isclose(sum(bins.shares), 1.0), bins.name
        if bins.kind == "numeric":  # the quantile rule leaves no numeric bin empty
            assert min(bins.shares) > 0, bins.name


def test_numeric_bins_are_deciles_with_open_ends(reference: DriftReference) -> None:
    [credit] = [bins for bins in reference.features if bins.name == "credit_score"]
    assert len(credit.labels) == 10
    assert all(abs(share - 0.1) < 0.01 for share in credit.shares)
    assert credit.labels[0] == f"< {credit.edges[0]:g}"
    assert credit.labels[1] == f"[{credit.edges[0]:g}, {credit.edges[1]:g})"
    assert credit.labels[-1] == f">= {credit.edges[-1]:g}"
    assert credit.bin_of(-1e12) == 0
    assert credit.bin_of(1e12) == len(credit.labels) - 1
    [gender] = [bins for bins in reference.features if bins.name == "gender"]
    assert gender.labels == ("Female", "Male")
    assert gender.edges == ()


def test_one_value_and_a_batch_fall_in_the_same_bins(reference: DriftReference) -> None:
    """The API bins a single row with bisect and a batch with numpy: the same bins,
    including values exactly on an edge (which open the next bin) and far outside."""
    rng = np.random.default_rng(0)
    for col, bins in enumerate(reference.features):
        feature = FEATURES[col]
        if isinstance(feature, NumericFeature):
            edges = np.asarray(bins.edges)
            values = np.concatenate(
                [
                    edges,
                    np.nextafter(edges, -np.inf),
                    rng.uniform(feature.minimum, feature.maximum, 500),
                    [feature.minimum, feature.maximum, -1e15, 1e15],
                ]
            )
        else:
            values = np.arange(len(bins.labels), dtype=np.float64).repeat(3)
        one_by_one = np.bincount([bins.bin_of(v) for v in values], minlength=len(bins.labels))
        assert bins.counts(values).tolist() == one_by_one.tolist(), bins.name
    [age] = [bins for bins in reference.features if bins.name == "age"]
    first = age.edges[0]
    assert age.bin_of(first) == 1
    assert age.bin_of(np.nextafter(first, 0)) == 0


def test_psi_of_a_hand_computed_example() -> None:
    # Reference 0.25 x 4, observed 400/300/200/100 (the promtool test uses the same example).
    expected = sum((o - 0.25) * math.log(o / 0.25) for o in (0.4, 0.3, 0.2, 0.1))  # 0.2282174...
    assert psi(np.array([400, 300, 200, 100]), [0.25] * 4) == pytest.approx(expected, abs=1e-12)
    assert psi(np.array([10, 10]), [0.5, 0.5]) == 0.0


def test_psi_clamps_an_empty_bin_at_epsilon() -> None:
    expected = 0.5 * math.log(2) + (EPSILON - 0.5) * math.log(EPSILON / 0.5)
    assert psi(np.array([1000, 0]), [0.5, 0.5]) == pytest.approx(expected, abs=1e-12)
    # The value the promtool test expects of the rule: both sides use epsilon = 0.0001.
    assert psi(np.array([1000, 0]), [0.5, 0.5]) == pytest.approx(4.60431846666895, abs=1e-12)
    assert psi(np.array([1000, 0]), [1.0, 0.0]) == 0.0  # a bin empty on both sides adds nothing
    assert math.isnan(psi(np.array([0, 0]), [0.5, 0.5]))


def test_training_like_rows_are_stable_and_older_customers_are_not(
    reference: DriftReference, tmp_path: Path
) -> None:
    csv = tmp_path / "fresh.csv"
    write_csv(csv, rows=4000, seed=11)  # the training distribution, other customers
    matrix = frame_to_matrix(load_csv(csv).features)
    assert max(psi_by_feature(reference, matrix).values()) < 0.1
    age = [f.name for f in FEATURES].index("age")
    matrix[:, age] += 15
    shifted = psi_by_feature(reference, matrix)
    assert shifted["age"] > 0.25
    assert max(value for name, value in shifted.items() if name != "age") < 0.1


def test_a_card_trained_before_drift_monitoring_has_no_reference(card: dict[str, Any]) -> None:
    old = {key: value for key, value in card.items() if key != "drift_reference"}
    assert reference_from_card(old) is None


def _broken(card: dict[str, Any], change: str) -> dict[str, Any]:
    broken = copy.deepcopy(card)
    features = broken["drift_reference"]["features"]
    age = features[[f["name"] for f in features].index("age")]
    if change == "feature_order":
        features.reverse()
    elif change == "edges_unsorted":
        age["edges"][0], age["edges"][1] = age["edges"][1], age["edges"][0]
    elif change == "shares_not_summing":
        age["shares"][0] += 0.5
    elif change == "too_many_bins":
        age["bins"] = [f"b{i}" for i in range(MAX_BINS + 1)]
    elif change == "categories_changed":
        features[1]["bins"] = ["France", "Spain", "Germany"]
    elif change == "not_an_object":
        broken["drift_reference"] = "bins"
    return broken


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("feature_order", "differ from this service's"),
        ("edges_unsorted", "age: edges must be increasing"),
        ("shares_not_summing", "age: shares must match bins one to one"),
        ("too_many_bins", f"age: 1 to {MAX_BINS} distinct bins expected"),
        ("categories_changed", "geography: type 'category' and bins"),
        ("not_an_object", "expected an object with a features list"),
    ],
)
def test_a_malformed_reference_is_refused_with_the_reason(
    card: dict[str, Any], change: str, message: str
) -> None:
    with pytest.raises(DriftReferenceError, match="drift_reference in the model card") as error:
        reference_from_card(_broken(card, change))
    assert message in str(error.value)
    assert str(error.value).endswith("retrain the model")


# --- bankchurn drift ------------------------------------------------------------------------


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_drift_command_prints_psi_per_feature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reference: DriftReference
) -> None:
    csv = tmp_path / "new.csv"
    write_csv(csv, rows=2000, seed=3)
    frame = pd.read_csv(csv).drop(columns=["Exited"])  # new data has no labels yet
    frame["Age"] = frame["Age"] + 15
    frame.to_csv(csv, index=False)
    code, out, err = run(
        ["drift", "--model", str(COMMITTED_CARD.parent), "--data", str(csv)], capsys
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{csv}: 2000 valid rows"
    assert lines[1] == f"PSI against the training reference ({reference.rows} rows), per feature:"
    table = {line.split()[0]: (float(line.split()[1]), line.split()[2]) for line in lines[2:]}
    assert list(table) == [f.name for f in FEATURES]
    assert table["age"][1] == "significant"
    assert table["age"][0] > 0.25
    assert table["credit_score"][1] == "stable"
    code, out, _ = run(
        ["drift", "--model", str(COMMITTED_CARD.parent), "--data", str(csv), "--json"], capsys
    )
    expected = psi_by_feature(
        reference, frame_to_matrix(load_csv(csv, require_target=False).features)
    )
    assert code == 0
    assert json.loads(out) == {"rows": 2000, "psi": expected}


def test_drift_command_refuses_invalid_rows_as_training_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "bad.csv"
    write_csv(csv, rows=20, seed=3)
    frame = pd.read_csv(csv)
    frame["Age"] = frame["Age"].astype(object)
    frame.loc[4, "Age"] = "forty"
    frame.to_csv(csv, index=False)
    code, out, err = run(
        ["drift", "--model", str(COMMITTED_CARD.parent), "--data", str(csv)], capsys
    )
    assert code == 2
    assert out == ""
    assert "line 6, column Age: Age is not a number: 'forty'" in err


def test_drift_command_on_a_model_without_a_reference_says_retrain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], card: dict[str, Any]
) -> None:
    model = tmp_path / "old-model"
    model.mkdir()
    old = {key: value for key, value in card.items() if key != "drift_reference"}
    (model / "model_card.json").write_text(json.dumps(old))
    csv = tmp_path / "new.csv"
    write_csv(csv, rows=20, seed=3)
    code, out, err = run(["drift", "--model", str(model), "--data", str(csv)], capsys)
    assert code == 2
    assert out == ""
    assert "has no drift_reference" in err
    assert "retrain the model" in err
    assert BY_NAME["age"].column == "Age"
