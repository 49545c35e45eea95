"""Deterministic synthetic stand-in for the Kaggle "Churn Modelling" bank dataset.

The real file's licence is unclear, so the project never ships or reads it at run or
test time. Instead, tests, demos and smoke runs use rows produced here: the same
``(rows, seed)`` always gives the same arrays and a byte-identical CSV (for a given
NumPy version; NumPy does not promise identical ``Generator`` streams across releases).

Calibration
-----------
Every number below was derived once, offline, from the public Kaggle file
(10,000 rows, 20.37 % churn) using aggregate statistics only: shares, means,
quantiles, conditional churn rates and logistic-regression coefficients. No real row,
identifier or surname is reproduced, and nothing here reads the file.

Features (the real file's figures in brackets):

* Geography: France / Germany / Spain = 50.1 / 25.1 / 24.8 %.
* Gender: 45.4 % female.
* Age: mixture 0.778 * Normal(35.4, 6.8) + 0.222 * Normal(51.4, 11.6), reflected at 18,
  rounded, capped at 92 [mean 38.9, sd 10.5, quartiles 32 / 37 / 44, p99 72, max 92;
  the mixture is a maximum-likelihood fit to the age histogram].
* IsActiveMember: about 49 % below 50, rising to about 88 % above 70
  [51.5 % overall; 53 / 63 / 70 / 84 / 89 % in the 50-, 55-, 60-, 65-, 70+ bands].
* NumOfProducts by country (1 / 2 / 3 / 4): France 50.1 / 47.2 / 2.1 / 0.6 %,
  Germany 53.8 / 41.5 / 3.7 / 1.0 %, Spain 49.3 / 47.7 / 2.7 / 0.3 %
  [overall 50.8 / 45.9 / 2.7 / 0.6 %].
* Balance: exactly 0 for 36.2 % of customers, never in Germany; in France and Spain
  the zero share depends on NumOfProducts (24 / 73 / 58 / 35 % for 1 / 2 / 3 / 4).
  Non-zero balances ~ Normal(mean, sd) with France 119.9k / 31.7k, Germany
  119.7k / 27.0k, Spain 119.8k / 32.3k, clipped to 1k-260k
  [mean 119.8k, sd 30.1k, min 3.8k, max 250.9k].
* CreditScore: Normal(652, 99), rounded, clipped to 350-850 [mean 650.5, sd 96.6; the
  2.3 % pile-up at 850 is reproduced by the clip].
* Tenure: 0 and 10 years 4.1 / 4.9 %, 1-9 years about 10.1 % each.
* HasCrCard: 70.5 %.
* EstimatedSalary: Uniform(10, 200,000) [11.58 to 199,992.48, flat].

Churn (``Exited``) is Bernoulli(sigmoid(logit)). The logit is a sum of interpretable
terms: a piecewise-linear age curve per activity status (the real file's strongest
signal: churn peaks at 50-60, and among inactive members aged 55-65 above 90 %),
country, gender, NumOfProducts, zero balance by NumOfProducts, a U-shaped non-zero
balance term, low credit scores (every real customer below 405 churned) and tenure.

The coefficients were fitted in two steps. (1) A logistic regression with exactly
these terms on the real file (5-fold CV ROC-AUC 0.865 there, on a par with gradient
boosting's 0.862). (2) In the real file the risk factors are correlated with each
other (churners tend to be older, German, female, inactive *and* hold one or 3+
products at once, as if rows had been drawn class by class), whereas this generator
draws them almost independently; with the step-1 coefficients the one-way churn rates
came out attenuated (e.g. Germany 31 % instead of 32 %, ages 50-55 47 % instead of
57 %). So the coefficients were re-fitted on a large synthetic sample to match the
real file's churn rates by country, gender, NumOfProducts, zero balance x products,
and age x activity (moment matching, lightly shrunk towards step 1, which is also
what keeps the nearly collinear terms well determined). The targets, real vs. this
generator: overall 20.4 / 20.0 %; France / Germany / Spain 16.2 / 32.4 / 16.7 vs.
15.6 / 32.2 / 16.7 %; female / male 25.1 / 16.5 vs. 24.8 / 16.1 %; NumOfProducts
1 / 2 / 3 / 4 27.7 / 7.6 / 82.7 / 100 vs. 27.4 / 7.5 / 81.3 / 99.5 %; inactive /
active 26.9 / 14.3 vs. 25.7 / 14.8 %. A gradient-boosting model trained on 10,000
synthetic rows scores ROC-AUC of about 0.86 on the real file
(``benchmarks/synth_realism.py``).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bankchurn.schema import (
    BY_COLUMN,
    FEATURE_COLUMNS,
    IDENTIFIER_COLUMNS,
    TARGET_COLUMN,
    CategoricalFeature,
)

__all__ = ["COLUMNS", "synthesize", "write_csv"]

# The Kaggle file's column order: identifiers, the features, then the target.
COLUMNS: tuple[str, ...] = (*IDENTIFIER_COLUMNS, *FEATURE_COLUMNS, TARGET_COLUMN)

Column = npt.NDArray[Any]

# Invented surnames (not taken from the dataset).
_SURNAMES: tuple[str, ...] = (
    "Ambleworth",
    "Barrowfield",
    "Brindlecombe",
    "Castellow",
    "Corrigall",
    "Dunmere",
    "Elstrand",
    "Farrowby",
    "Fennimore",
    "Galloway-Brent",
    "Grisdale",
    "Hallowick",
    "Harwinton",
    "Iverbrook",
    "Jessamy",
    "Kestleford",
    "Lanfranc",
    "Lindquell",
    "Marchbank",
    "Merriweather",
    "Nethercott",
    "Northam",
    "Oakenshaw",
    "Orlando-Vey",
    "Pellingham",
    "Quarrington",
    "Ravensholt",
    "Rosendale",
    "Saltmarsh",
    "Seddonfield",
    "Tamberlin",
    "Thistlewood",
    "Upcott",
    "Valcourt",
    "Wetherden",
    "Whitlock-Ayre",
    "Yarborough",
    "Zellweger-Pike",
)

_CUSTOMER_ID_MIN = 15_600_000
_CUSTOMER_ID_SPAN = 215_691  # 15,600,000-15,815,690, like the real identifiers
_CUSTOMER_ID_MAX_SPAN = 100_000_000 - _CUSTOMER_ID_MIN  # stay 8 digits for big samples

_GEOGRAPHY_SHARE = {"France": 0.5014, "Germany": 0.2509, "Spain": 0.2477}
_FEMALE_SHARE = 0.4543
# Age ~ mixture of two normals (weight, mean, sd), reflected at 18, rounded, capped at 92.
_AGE_MIXTURE = ((0.778, 35.37, 6.80), (0.222, 51.36, 11.61))
_AGE_MIN, _AGE_MAX = 18, 92
_HAS_CARD_SHARE = 0.7055
# P(active) = base + lift * sigmoid((age - centre) / width)
_ACTIVE_BASE, _ACTIVE_LIFT, _ACTIVE_CENTRE, _ACTIVE_WIDTH = 0.49, 0.42, 60.0, 4.5
# P(NumOfProducts = 1, 2, 3, 4 | Geography)
_PRODUCTS_SHARE = {
    "France": (0.501, 0.472, 0.021, 0.006),
    "Germany": (0.538, 0.415, 0.037, 0.010),
    "Spain": (0.493, 0.477, 0.027, 0.003),
}
# P(Balance == 0 | NumOfProducts = 1, 2, 3, 4, Geography)
_ZERO_BALANCE_SHARE = {
    "France": (0.243, 0.732, 0.58, 0.35),
    "Germany": (0.0, 0.0, 0.0, 0.0),
    "Spain": (0.243, 0.732, 0.58, 0.35),
}
# Non-zero balance ~ Normal(mean, sd | Geography)
_BALANCE_NORMAL = {
    "France": (119_900.0, 31_700.0),
    "Germany": (119_700.0, 27_000.0),
    "Spain": (119_800.0, 32_300.0),
}
_BALANCE_CLIP = (1_000.0, 260_000.0)
_CREDIT_MEAN, _CREDIT_SD, _CREDIT_MIN, _CREDIT_MAX = 652.0, 99.0, 350, 850
_TENURE_SHARE = (0.0413, *(0.1011,) * 9, 0.0490)  # years 0..10
_SALARY_RANGE = (10.0, 200_000.0)

# --- churn logit -------------------------------------------------------------------
# Age enters as a piecewise-linear curve (values at the knots, interpolated between,
# flat beyond the last knot), separately for active and inactive members; the curve
# carries the intercept. The other terms are added to it.
_AGE_KNOTS = (18.0, 30.0, 40.0, 48.0, 55.0, 62.0, 70.0, 80.0)
_AGE_LOGIT_ACTIVE = (-4.13, -4.78, -3.10, -0.99, -0.85, -2.46, -3.80, -6.32)
_AGE_LOGIT_INACTIVE = (-3.25, -3.81, -2.20, 0.40, 3.21, 4.41, 0.38, -2.15)
_LOGIT_GEOGRAPHY = {"France": 0.0, "Germany": 1.59, "Spain": 0.13}
_LOGIT_FEMALE = 1.06
_LOGIT_PRODUCTS = (0.0, -1.66, 4.80, 9.0)  # 1, 2, 3, 4 products (4: ~certain churn)
_LOGIT_ZERO_BALANCE = (1.58, -1.71, -1.65, -1.65)  # added when Balance == 0, by products
# Non-zero balance, b = (Balance - 120k) / 100k: linear + quadratic (U-shaped).
_LOGIT_BALANCE_LINEAR, _LOGIT_BALANCE_SQUARE = 0.26, 1.19
# Credit scores below the knee add this much per 10 points below it.
_LOGIT_LOW_CREDIT_KNEE, _LOGIT_LOW_CREDIT_PER_10 = 420.0, 1.83
_LOGIT_TENURE_PER_5_YEARS = -0.19  # times (Tenure - 5) / 5


def synthesize(rows: int, seed: int) -> dict[str, Column]:
    """Generate ``rows`` synthetic customers, keyed by the dataset's column names.

    Columns come in the Kaggle file's order (see ``COLUMNS``). Integer columns are
    int64, Balance and EstimatedSalary float64 rounded to cents, text columns numpy
    unicode arrays. Deterministic in ``(rows, seed)``.
    """
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    if rows > _CUSTOMER_ID_MAX_SPAN:
        raise ValueError(f"rows must be <= {_CUSTOMER_ID_MAX_SPAN}, got {rows}")
    rng = np.random.default_rng(seed)

    geography_labels = _categories("Geography")
    gender_labels = _categories("Gender")

    span = max(_CUSTOMER_ID_SPAN, rows)
    customer_id = _CUSTOMER_ID_MIN + rng.choice(span, size=rows, replace=False).astype(np.int64)
    surname = np.array(_SURNAMES)[rng.integers(0, len(_SURNAMES), size=rows)]

    geo_p = np.array([_GEOGRAPHY_SHARE[label] for label in geography_labels])
    geo = rng.choice(len(geography_labels), size=rows, p=geo_p / geo_p.sum())
    female_index = gender_labels.index("Female")
    male_index = gender_labels.index("Male")
    is_female = rng.random(rows) < _FEMALE_SHARE
    gender = np.where(is_female, female_index, male_index)

    mixture = np.array(_AGE_MIXTURE)
    component = (rng.random(rows) >= mixture[0, 0]).astype(np.intp)
    age = rng.normal(mixture[component, 1], mixture[component, 2])
    age = np.abs(age - (_AGE_MIN - 0.5)) + (_AGE_MIN - 0.5)  # reflect the few below 18
    age = np.clip(np.rint(age), _AGE_MIN, _AGE_MAX).astype(np.int64)
    tenure_p = np.array(_TENURE_SHARE)
    tenure = rng.choice(len(tenure_p), size=rows, p=tenure_p / tenure_p.sum()).astype(np.int64)
    credit = np.rint(rng.normal(_CREDIT_MEAN, _CREDIT_SD, size=rows))
    credit = np.clip(credit, _CREDIT_MIN, _CREDIT_MAX).astype(np.int64)

    p_active = _ACTIVE_BASE + _ACTIVE_LIFT / (1.0 + np.exp(-(age - _ACTIVE_CENTRE) / _ACTIVE_WIDTH))
    active = (rng.random(rows) < p_active).astype(np.int64)
    has_card = (rng.random(rows) < _HAS_CARD_SHARE).astype(np.int64)

    # Per-row lookups of the country-dependent tables (indexed by the schema's order).
    products_p = np.array([_PRODUCTS_SHARE[label] for label in geography_labels])
    zero_p = np.array([_ZERO_BALANCE_SHARE[label] for label in geography_labels])
    balance_normal = np.array([_BALANCE_NORMAL[label] for label in geography_labels])

    cumulative = np.cumsum(products_p / products_p.sum(axis=1, keepdims=True), axis=1)[geo]
    products_index = (rng.random(rows)[:, None] >= cumulative[:, :-1]).sum(axis=1)
    products = (products_index + 1).astype(np.int64)

    zero_balance = rng.random(rows) < zero_p[geo, products_index]
    nonzero = rng.normal(balance_normal[geo, 0], balance_normal[geo, 1])
    nonzero = np.clip(nonzero, *_BALANCE_CLIP)
    balance = np.where(zero_balance, 0.0, np.round(nonzero, 2))

    salary = np.round(rng.uniform(*_SALARY_RANGE, size=rows), 2)

    # Churn.
    logit = np.where(
        active == 1,
        np.interp(age, _AGE_KNOTS, _AGE_LOGIT_ACTIVE),
        np.interp(age, _AGE_KNOTS, _AGE_LOGIT_INACTIVE),
    )
    logit += np.array([_LOGIT_GEOGRAPHY[label] for label in geography_labels])[geo]
    logit += _LOGIT_FEMALE * is_female
    logit += np.array(_LOGIT_PRODUCTS)[products_index]
    logit += np.where(zero_balance, np.array(_LOGIT_ZERO_BALANCE)[products_index], 0.0)
    scaled = np.where(zero_balance, 0.0, (balance - 120_000.0) / 100_000.0)
    logit += _LOGIT_BALANCE_LINEAR * scaled + _LOGIT_BALANCE_SQUARE * scaled**2
    logit += _LOGIT_LOW_CREDIT_PER_10 * np.maximum(_LOGIT_LOW_CREDIT_KNEE - credit, 0) / 10.0
    logit += _LOGIT_TENURE_PER_5_YEARS * (tenure - 5) / 5.0
    exited = (rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)

    values: dict[str, Column] = {
        "RowNumber": np.arange(1, rows + 1, dtype=np.int64),
        "CustomerId": customer_id,
        "Surname": surname,
        "CreditScore": credit,
        "Geography": np.array(geography_labels)[geo],
        "Gender": np.array(gender_labels)[gender],
        "Age": age,
        "Tenure": tenure,
        "Balance": balance,
        "NumOfProducts": products,
        "HasCrCard": has_card,
        "IsActiveMember": active,
        "EstimatedSalary": salary,
        TARGET_COLUMN: exited,
    }
    return {column: values[column] for column in COLUMNS}


def write_csv(path: Path, rows: int, seed: int) -> None:
    """Write ``synthesize(rows, seed)`` as CSV, formatted like the Kaggle file.

    Header identical to the real file, LF line endings, integers without decimals and
    money with at most two decimals and no trailing zeros (``0``, ``1234.5``).
    """
    data = synthesize(rows, seed)
    columns = [[_format(value) for value in data[column].tolist()] for column in COLUMNS]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(zip(*columns, strict=True))


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _categories(column: str) -> tuple[str, ...]:
    feature = BY_COLUMN[column]
    if not isinstance(feature, CategoricalFeature):  # pragma: no cover - schema invariant
        raise TypeError(f"{column} is not categorical in bankchurn.schema")
    return feature.categories
