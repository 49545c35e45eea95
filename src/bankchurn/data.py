"""Read a churn CSV, checking every row against the schema before anything trains on it.

Parsing is strict on purpose: a value that is not exactly a number, a category or a 0/1
target is reported with its line and column, never guessed at. By default any bad row
fails the load with a report of *every* bad row; ``drop_invalid=True`` keeps the good
rows and says how many were dropped and why.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankchurn.artifacts import sha256_of
from bankchurn.errors import BankchurnError
from bankchurn.schema import (
    BY_COLUMN,
    FEATURE_COLUMNS,
    FEATURES,
    IDENTIFIER_COLUMNS,
    TARGET_COLUMN,
    CategoricalFeature,
    Matrix,
)

# Plain decimal notation only: float() would also accept "nan", "inf", "1_000" and " 7 ".
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_REPORT_LIMIT = 20


@dataclass(frozen=True)
class RowError:
    """One problem in the file: ``line`` is 1-based as an editor shows it (header = 1)."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class DataValidationError(BankchurnError):
    """The file cannot be used as it is; ``errors`` lists every problem found."""

    def __init__(self, path: Path, errors: list[RowError], bad_rows: int) -> None:
        self.path = path
        self.errors = errors
        self.bad_rows = bad_rows
        shown = "\n".join(f"  {e}" for e in errors[:_REPORT_LIMIT])
        more = len(errors) - _REPORT_LIMIT
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{path}: {bad_rows} invalid row(s), {len(errors)} problem(s):\n{shown}{tail}\n"
            "Fix the file, or pass --drop-invalid to train on the valid rows only."
        )


@dataclass(frozen=True)
class Dataset:
    """Validated rows: features under the dataset's column names, identifiers removed."""

    features: pd.DataFrame
    target: npt.NDArray[np.int64]
    path: Path
    sha256: str
    dropped_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return len(self.features)

    @property
    def positive_rate(self) -> float:
        return float(self.target.mean()) if self.rows else 0.0

    def fingerprint(self) -> dict[str, object]:
        return {
            "sha256": self.sha256,
            "rows": self.rows,
            "positive_rate": round(self.positive_rate, 6),
            "dropped_rows": self.dropped_rows,
        }


def frame_to_matrix(features: pd.DataFrame) -> Matrix:
    """The model's input matrix from a frame with the dataset's column names."""
    columns: list[npt.NDArray[np.float64]] = []
    for feature in FEATURES:
        values = features[feature.column]
        if isinstance(feature, CategoricalFeature):
            codes = pd.Categorical(values, categories=list(feature.categories)).codes
            if (codes < 0).any():
                raise ValueError(f"{feature.column} holds a value outside {feature.categories}")
            columns.append(codes.astype(np.float64))
        else:
            columns.append(values.to_numpy(dtype=np.float64))
    return np.column_stack(columns)


def _check_header(header: list[str], require_target: bool) -> tuple[list[RowError], list[str]]:
    errors = [
        RowError(1, name, f"column {name!r} appears {count} times; keep exactly one")
        for name, count in Counter(header).items()
        if count > 1
    ]
    required = [*FEATURE_COLUMNS, *([TARGET_COLUMN] if require_target else [])]
    errors += [
        RowError(1, name, f"required column {name!r} is missing")
        for name in required
        if name not in header
    ]
    known = {*required, TARGET_COLUMN, *IDENTIFIER_COLUMNS}
    return errors, [name for name in header if name not in known]


def _parse_value(column: str, text: str) -> tuple[object, str | None]:
    """Return (value, problem) for one cell of a feature column."""
    feature = BY_COLUMN[column]
    if text == "":
        return None, f"missing value for {column}"
    if isinstance(feature, CategoricalFeature):
        return text, feature.check(text)
    if not _NUMBER.fullmatch(text):
        return None, f"{column} is not a number: {text!r}"
    number = float(text)
    return number, feature.check(number)


def load_csv(path: Path, *, drop_invalid: bool = False, require_target: bool = True) -> Dataset:
    """Load and validate ``path``; raise DataValidationError listing every bad row."""
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            raise DataValidationError(path, [RowError(1, "", "the file is empty")], 0)
        header_errors, ignored = _check_header(header, require_target)
        if header_errors:
            raise DataValidationError(path, header_errors, 0)
        position = {name: header.index(name) for name in header}
        wanted = [*FEATURE_COLUMNS, *([TARGET_COLUMN] if require_target else [])]

        values: dict[str, list[object]] = {name: [] for name in wanted}
        errors: list[RowError] = []
        bad_rows = 0
        for row in reader:
            line = reader.line_num
            if len(row) != len(header):
                errors.append(
                    RowError(line, "", f"expected {len(header)} fields, found {len(row)}")
                )
                bad_rows += 1
                continue
            parsed: dict[str, object] = {}
            row_errors: list[RowError] = []
            for name in wanted:
                text = row[position[name]]
                if name == TARGET_COLUMN:
                    value: object = int(text) if text in ("0", "1") else None
                    problem = None if value is not None else f"{name} must be 0 or 1, got {text!r}"
                else:
                    value, problem = _parse_value(name, text)
                if problem:
                    row_errors.append(RowError(line, name, problem))
                parsed[name] = value
            if row_errors:
                errors.extend(row_errors)
                bad_rows += 1
                continue
            for name in wanted:
                values[name].append(parsed[name])

    if errors and not drop_invalid:
        raise DataValidationError(path, errors, bad_rows)
    kept = len(values[FEATURE_COLUMNS[0]])
    if kept == 0:
        raise DataValidationError(path, [*errors, RowError(0, "", "no valid rows left")], bad_rows)

    features = pd.DataFrame({column: values[column] for column in FEATURE_COLUMNS})
    for feature in FEATURES:
        if not isinstance(feature, CategoricalFeature):
            dtype = np.int64 if feature.integer else np.float64
            features[feature.column] = features[feature.column].astype(dtype)
    target = np.asarray(values.get(TARGET_COLUMN, []), dtype=np.int64)
    return Dataset(
        features=features,
        target=target,
        path=path,
        sha256=sha256_of(path),
        dropped_rows=bad_rows,
        errors=errors,
        ignored_columns=tuple(ignored),
    )
