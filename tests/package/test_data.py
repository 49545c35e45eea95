"""CSV loading: every bad row reported with line and column; nothing coerced or lost."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bankchurn.data import Dataset, DataValidationError, RowError, frame_to_matrix, load_csv
from bankchurn.schema import EXAMPLE_CUSTOMER, FEATURE_COLUMNS, FEATURES, encode_records
from bankchurn.synth import write_csv

HEADER = [
    "RowNumber",
    "CustomerId",
    "Surname",
    *FEATURE_COLUMNS,
    "Exited",
]
GOOD_ROW = [
    "1",
    "15634602",
    "Doe",
    "619",
    "France",
    "Female",
    "42",
    "2",
    "0",
    "1",
    "1",
    "1",
    "101348.88",
    "1",
]


def write_rows(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def with_value(column: str, value: str) -> list[str]:
    row = list(GOOD_ROW)
    row[HEADER.index(column)] = value
    return row


def errors_of(path: Path) -> list[RowError]:
    with pytest.raises(DataValidationError) as caught:
        load_csv(path)
    return caught.value.errors


@pytest.fixture(scope="module")
def ten_thousand_rows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("csv") / "synthetic-10k.csv"
    write_csv(path, rows=10_000, seed=3)
    return path


def corrupt(source: Path, target: Path) -> Path:
    """Copy ``source`` with two corrupted rows: line 101 (Age) and line 7,001 (Geography)."""
    lines = source.read_text().splitlines(keepends=True)
    age = HEADER.index("Age")
    geography = HEADER.index("Geography")
    fields = lines[100].split(",")
    fields[age] = "forty"
    lines[100] = ",".join(fields)
    fields = lines[7000].split(",")
    fields[geography] = "Atlantis"
    lines[7000] = ",".join(fields)
    target.write_text("".join(lines))
    return target


def test_a_clean_file_loads_every_row_without_identifiers(ten_thousand_rows: Path) -> None:
    dataset = load_csv(ten_thousand_rows)
    assert dataset.rows == 10_000
    assert dataset.dropped_rows == 0
    assert list(dataset.features.columns) == list(FEATURE_COLUMNS)
    assert not {"RowNumber", "CustomerId", "Surname"} & set(dataset.features.columns)
    assert set(np.unique(dataset.target)) == {0, 1}
    assert len(dataset.sha256) == 64


def test_two_corrupted_rows_in_ten_thousand_fail_the_load_naming_both(
    ten_thousand_rows: Path, tmp_path: Path
) -> None:
    path = corrupt(ten_thousand_rows, tmp_path / "corrupted.csv")
    with pytest.raises(DataValidationError) as caught:
        load_csv(path)
    error = caught.value
    assert error.bad_rows == 2
    assert [(e.line, e.column) for e in error.errors] == [(101, "Age"), (7001, "Geography")]
    assert error.errors[0].message == "Age is not a number: 'forty'"
    assert "Geography must be one of France, Germany, Spain; got 'Atlantis'" in str(error)
    assert "2 invalid row(s)" in str(error)
    assert "--drop-invalid" in str(error)


def test_drop_invalid_keeps_the_9998_good_rows_and_reports_the_two(
    ten_thousand_rows: Path, tmp_path: Path
) -> None:
    path = corrupt(ten_thousand_rows, tmp_path / "corrupted.csv")
    dataset = load_csv(path, drop_invalid=True)
    assert dataset.rows == 9_998
    assert dataset.dropped_rows == 2
    assert [e.line for e in dataset.errors] == [101, 7001]
    clean = load_csv(ten_thousand_rows)
    kept = clean.features.drop(index=[99, 6999]).reset_index(drop=True)
    assert dataset.features.equals(kept)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("Age", "", "missing value for Age"),
        ("Age", "17", "Age must be between 18 and 120, got 17"),
        ("Age", "42.5", "Age must be a whole number, got 42.5"),
        ("Balance", "nan", "Balance is not a number: 'nan'"),
        ("Balance", "inf", "Balance is not a number: 'inf'"),
        ("Balance", "1_000", "Balance is not a number: '1_000'"),
        ("Balance", " 100", "Balance is not a number: ' 100'"),
        ("Balance", "-5", "Balance must be between 0 and 1e+07, got -5"),
        ("Gender", "female", "Gender must be one of Female, Male; got 'female'"),
        ("HasCrCard", "2", "HasCrCard must be between 0 and 1, got 2"),
        ("Exited", "yes", "Exited must be 0 or 1, got 'yes'"),
        ("Exited", "1.0", "Exited must be 0 or 1, got '1.0'"),
    ],
)
def test_each_kind_of_bad_value_is_reported_precisely(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    path = write_rows(tmp_path / "bad.csv", [GOOD_ROW, with_value(column, value)])
    assert errors_of(path) == [RowError(3, column, message)]


def test_a_row_with_the_wrong_number_of_fields_is_reported(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "short.csv", [GOOD_ROW, GOOD_ROW[:-2]])
    assert errors_of(path) == [RowError(3, "", "expected 14 fields, found 12")]


def test_every_problem_of_a_row_is_listed(tmp_path: Path) -> None:
    row = with_value("Age", "old")
    row[HEADER.index("Tenure")] = "-1"
    path = write_rows(tmp_path / "two-problems.csv", [row])
    assert [(e.line, e.column) for e in errors_of(path)] == [(2, "Age"), (2, "Tenure")]


def test_a_missing_column_fails_before_any_row_is_read(tmp_path: Path) -> None:
    header = [c for c in HEADER if c != "Balance"]
    row = [v for c, v in zip(HEADER, GOOD_ROW, strict=True) if c != "Balance"]
    path = write_rows(tmp_path / "no-balance.csv", [row], header)
    assert errors_of(path) == [RowError(1, "Balance", "required column 'Balance' is missing")]


def test_a_duplicate_column_is_refused(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "dup.csv", [[*GOOD_ROW, "1"]], [*HEADER, "Age"])
    assert errors_of(path) == [RowError(1, "Age", "column 'Age' appears 2 times; keep exactly one")]


def test_the_target_is_optional_when_not_required(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "unlabelled.csv", [GOOD_ROW[:-1]], HEADER[:-1])
    assert errors_of(path) == [RowError(1, "Exited", "required column 'Exited' is missing")]
    dataset = load_csv(path, require_target=False)
    assert dataset.rows == 1
    assert dataset.target.size == 0


def test_unknown_columns_are_ignored_and_named(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "extra.csv", [[*GOOD_ROW, "x"]], [*HEADER, "Complain"])
    dataset = load_csv(path)
    assert dataset.ignored_columns == ("Complain",)
    assert "Complain" not in dataset.features.columns


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert errors_of(path) == [RowError(1, "", "the file is empty")]


def test_a_file_whose_rows_are_all_bad_fails_even_with_drop_invalid(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "all-bad.csv", [with_value("Age", "x")])
    with pytest.raises(DataValidationError, match="no valid rows left"):
        load_csv(path, drop_invalid=True)


def test_changing_identifiers_changes_nothing_the_model_sees(tmp_path: Path) -> None:
    other = list(GOOD_ROW)
    other[:3] = ["999", "15999999", "Someone Else"]
    first = load_csv(write_rows(tmp_path / "a.csv", [GOOD_ROW]))
    second = load_csv(write_rows(tmp_path / "b.csv", [other]))
    assert np.array_equal(frame_to_matrix(first.features), frame_to_matrix(second.features))


def test_frame_and_record_paths_build_the_same_matrix(synthetic_dataset: Dataset) -> None:
    frame = synthetic_dataset.features.head(200)
    records = [{f.name: row[f.column] for f in FEATURES} for row in frame.to_dict(orient="records")]
    assert np.array_equal(frame_to_matrix(frame), encode_records(records))


def test_the_example_customer_encodes_in_schema_order() -> None:
    matrix = encode_records([EXAMPLE_CUSTOMER])
    assert matrix.tolist() == [[619, 0, 0, 42, 2, 0, 1, 1, 1, 101348.88]]
