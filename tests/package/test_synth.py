"""The synthetic data generator: deterministic, schema-valid, realistic enough."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bankchurn.schema import FEATURE_COLUMNS, FEATURES, IDENTIFIER_COLUMNS, TARGET_COLUMN
from bankchurn.synth import COLUMNS, synthesize, write_csv

KAGGLE_HEADER = (
    "RowNumber,CustomerId,Surname,CreditScore,Geography,Gender,Age,Tenure,Balance,"
    "NumOfProducts,HasCrCard,IsActiveMember,EstimatedSalary,Exited"
)
ROWS = 20_000


@pytest.fixture(scope="module")
def big() -> dict[str, Any]:
    return synthesize(ROWS, 7)


def _rate(mask: Any, y: Any) -> float:
    assert mask.sum() > 0
    return float(y[mask].mean())


# --- determinism and file format ---------------------------------------------------


def test_same_seed_same_bytes_different_seed_differs(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    write_csv(first, 500, 42)
    write_csv(second, 500, 42)
    write_csv(other, 500, 43)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_synthesize_is_deterministic() -> None:
    a, b = synthesize(300, 5), synthesize(300, 5)
    assert list(a) == list(b)
    for column in a:
        np.testing.assert_array_equal(a[column], b[column])


def test_header_lf_endings_and_row_count(tmp_path: Path) -> None:
    path = tmp_path / "synth.csv"
    write_csv(path, 250, 1)
    raw = path.read_bytes()
    assert b"\r" not in raw
    lines = raw.decode("utf-8").split("\n")
    assert lines[0] == KAGGLE_HEADER
    assert lines[-1] == ""  # trailing newline, nothing after it
    assert len(lines) == 250 + 2


def test_columns_follow_kaggle_order_and_schema() -> None:
    data = synthesize(10, 0)
    assert tuple(data) == COLUMNS == tuple(KAGGLE_HEADER.split(","))
    assert (*IDENTIFIER_COLUMNS, *FEATURE_COLUMNS, TARGET_COLUMN) == COLUMNS
    assert all(len(values) == 10 for values in data.values())


def test_numbers_are_formatted_like_the_kaggle_file(tmp_path: Path) -> None:
    path = tmp_path / "synth.csv"
    write_csv(path, 2_000, 3)
    with path.open(newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    data = synthesize(2_000, 3)
    integer_columns = [c for c in COLUMNS if c not in {"Surname", "Geography", "Gender"}]
    integer_columns = [c for c in integer_columns if c not in {"Balance", "EstimatedSalary"}]
    for column in integer_columns:
        cells = [row[column] for row in table]
        assert all(cell.lstrip("-").isdigit() for cell in cells), column
        assert [int(cell) for cell in cells] == data[column].tolist()
    for column in ("Balance", "EstimatedSalary"):
        cells = [row[column] for row in table]
        for cell in cells:
            whole, _, decimals = cell.partition(".")
            assert whole.isdigit(), cell
            assert len(decimals) <= 2, cell
            assert not decimals.endswith("0"), cell  # "1.5" not "1.50", "7" not "7.00"
        np.testing.assert_array_equal([float(c) for c in cells], data[column])
    balances = [row["Balance"] for row in table]
    assert balances.count("0") == int((data["Balance"] == 0).sum()) > 0


def test_identifiers(big: dict[str, Any]) -> None:
    np.testing.assert_array_equal(big["RowNumber"], np.arange(1, ROWS + 1))
    ids = big["CustomerId"]
    assert len(np.unique(ids)) == ROWS
    assert ids.min() >= 15_600_000
    assert ids.max() <= 15_815_690
    surnames = big["Surname"]
    assert all(name and "," not in name for name in surnames.tolist())
    assert 10 <= len(np.unique(surnames)) <= 100


def test_zero_rows_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    write_csv(path, 0, 0)
    assert path.read_text(encoding="utf-8") == KAGGLE_HEADER + "\n"
    with pytest.raises(ValueError, match="rows"):
        synthesize(-1, 0)


def test_every_value_passes_the_schema(big: dict[str, Any]) -> None:
    for feature in FEATURES:
        values = big[feature.column]
        for value in np.unique(values).tolist():
            assert feature.check(value) is None, (feature.column, value)
    assert set(np.unique(big[TARGET_COLUMN]).tolist()) == {0, 1}


def test_imports_without_pandas() -> None:
    code = (
        "import sys; sys.modules['pandas'] = None\n"
        "import bankchurn.synth as s\n"
        "assert 'pandas' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "print(len(s.synthesize(5, 0)['Exited']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5"


# --- marginals ---------------------------------------------------------------------


def test_churn_rate(big: dict[str, Any]) -> None:
    assert 0.17 <= big[TARGET_COLUMN].mean() <= 0.24


def test_feature_marginals(big: dict[str, Any]) -> None:
    geo = big["Geography"]
    assert 0.47 <= (geo == "France").mean() <= 0.53
    assert 0.22 <= (geo == "Germany").mean() <= 0.28
    assert 0.22 <= (geo == "Spain").mean() <= 0.28
    assert 0.42 <= (big["Gender"] == "Female").mean() <= 0.49

    age = big["Age"]
    assert 36 <= np.median(age) <= 38
    assert 37.5 <= age.mean() <= 40.5
    assert 9 <= age.std() <= 12
    assert np.percentile(age, 99) >= 65  # right-skewed tail

    zero = big["Balance"] == 0
    assert 0.32 <= zero.mean() <= 0.40
    assert zero[geo == "Germany"].mean() < 0.01
    nonzero = big["Balance"][~zero]
    assert 112_000 <= nonzero.mean() <= 128_000
    assert nonzero.min() > 0

    products = big["NumOfProducts"]
    assert 0.47 <= (products == 1).mean() <= 0.55
    assert 0.42 <= (products == 2).mean() <= 0.50
    assert 0.015 <= (products == 3).mean() <= 0.040
    assert 0.002 <= (products == 4).mean() <= 0.012

    assert 0.47 <= big["IsActiveMember"].mean() <= 0.56
    assert 0.67 <= big["HasCrCard"].mean() <= 0.74
    assert 630 <= big["CreditScore"].mean() <= 670
    tenure_share = np.bincount(big["Tenure"], minlength=11) / ROWS
    assert tenure_share[1:10].min() >= 0.08
    assert tenure_share[1:10].max() <= 0.12
    salary = big["EstimatedSalary"]
    assert 95_000 <= salary.mean() <= 105_000
    assert salary.min() > 0
    assert salary.max() <= 200_000


# --- churn relationships -----------------------------------------------------------


def test_inactive_members_churn_more(big: dict[str, Any]) -> None:
    y, active = big[TARGET_COLUMN], big["IsActiveMember"]
    assert _rate(active == 0, y) > _rate(active == 1, y) + 0.07


def test_three_or_four_products_churn_far_more_than_two(big: dict[str, Any]) -> None:
    y, products = big[TARGET_COLUMN], big["NumOfProducts"]
    two = _rate(products == 2, y)
    assert two < _rate(products == 1, y)
    assert _rate(products >= 3, y) > two + 0.5
    assert _rate(products == 4, y) > 0.9


def test_age_hump(big: dict[str, Any]) -> None:
    y, age = big[TARGET_COLUMN], big["Age"]
    middle = _rate((age >= 45) & (age <= 60), y)
    assert middle > _rate((age >= 25) & (age <= 35), y) + 0.25
    assert middle > _rate(age >= 70, y) + 0.2


def test_country_and_gender_effects(big: dict[str, Any]) -> None:
    y, geo, gender = big[TARGET_COLUMN], big["Geography"], big["Gender"]
    assert _rate(geo == "Germany", y) > _rate(geo == "France", y) + 0.1
    assert _rate(gender == "Female", y) > _rate(gender == "Male", y) + 0.04
