"""Reason codes: exact baseline Shapley values of the churn probability.

The method (Sundararajan and Najmi 2020, "The many Shapley values for model
explanation", section 4.1): a reference customer ``r`` is recorded at training; for a
customer ``x`` the game is ``v(S) = p(x_S, r_rest)``, the model's probability when the
features in coalition ``S`` take the customer's values and the others the reference's.
Feature ``i``'s contribution is its Shapley value in that game,

    phi_i = sum over S not holding i of |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S)),

so the contributions add up to ``p(x) - p(r)`` (efficiency) and a feature whose value
equals the reference's gets 0 (dummy). With the schema's 10 features the game has
2**10 = 1,024 coalitions: every one is evaluated in ONE batched call of whatever
``predict`` function is given (a ``Predictor``'s ``predict_proba``: scikit-learn and
ONNX alike), then combined with fixed weights. No sampling, no approximation, no model
internals: this works for any model, and costs the model 1,024 rows per customer.

Why pairs of coalitions and not one ``weights @ values`` product: the dot product of a
full 10 x 1,024 weight matrix gives the same value mathematically, but in floating
point a feature equal to the reference would get a residue of ~1e-17 instead of 0.
Summing weighted differences ``v(S + i) - v(S)``, which are exactly 0 when the two rows
are the same, keeps the dummy property exact.

The reference is chosen here too (``reference_customer``), so training and serving
agree on it; this module imports only numpy (the ONNX image has no scikit-learn).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from math import factorial
from typing import Any

import numpy as np
import numpy.typing as npt

from bankchurn.schema import FEATURES, CategoricalFeature, Matrix, encode_records

METHOD = "baseline_shapley"
DEFINITION = (
    "Exact Shapley values of the churn probability relative to a reference customer "
    "(baseline Shapley, Sundararajan and Najmi 2020): the model is evaluated on all "
    "2^10 mixes of the customer's and the reference's feature values; each feature's "
    "contribution is its Shapley share, and they add up to p(customer) - p(reference)."
)
REFERENCE_RULE = (
    "the training part's median for each numeric feature (the lower of the two middle "
    "values when the count is even, so a value some training customer has, whole where "
    "the schema wants integers) and its most frequent category for each categorical one "
    "(ties: the schema's first)"
)

Predict = Callable[[Matrix], npt.NDArray[np.float64]]
Contributions = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Attribution:
    """Contributions (customers x features, schema order) and the two ends they join."""

    contributions: Contributions
    probabilities: npt.NDArray[np.float64]  # p(x) per customer, from the same call
    reference_probability: float  # p(r)


@dataclass(frozen=True)
class _Plan:
    """The fixed part of the computation for n features, built once per process."""

    masks: npt.NDArray[np.bool_]  # (2**n, n): coalition code -> which features are the customer's
    without: npt.NDArray[np.intp]  # (n, 2**(n-1)): codes of coalitions not holding feature i
    weights: npt.NDArray[np.float64]  # (n, 2**(n-1)): Shapley weight of each such coalition


@cache
def _plan(n: int) -> _Plan:
    """Coalitions as bit codes (bit i set = feature i takes the customer's value)."""
    codes = np.arange(2**n)
    masks = ((codes[:, None] >> np.arange(n)) & 1).astype(bool)
    sizes = masks.sum(axis=1)
    by_size = np.array(
        [factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)], dtype=np.float64
    )
    without = np.stack([codes[~masks[:, i]] for i in range(n)])
    weights = by_size[sizes[without]]
    return _Plan(masks, without, weights)


def coalitions(customers: Matrix, reference: Matrix) -> Matrix:
    """Every mix of each customer with the reference: (customers * 2**n, n), in
    customer order, coalition codes ascending (row 0 = the reference, last = the customer)."""
    if customers.ndim != 2 or reference.shape != (customers.shape[1],):
        raise ValueError(
            f"expected customers (rows, {len(reference)}) and one reference row, got "
            f"{customers.shape} and {reference.shape}"
        )
    masks = _plan(customers.shape[1]).masks
    mixes = np.where(masks[None, :, :], customers[:, None, :], reference[None, None, :])
    return mixes.reshape(-1, customers.shape[1])


def attribute(values: npt.NDArray[np.float64], features: int) -> Attribution:
    """Shapley values from the model's probabilities on ``coalitions``' rows."""
    plan = _plan(features)
    games = np.asarray(values, dtype=np.float64).reshape(-1, 2**features)
    gains = games[:, plan.without + (1 << np.arange(features))[:, None]] - games[:, plan.without]
    # One customer at a time: numpy's summation order for a 3-d reduction (or einsum's)
    # depends on the batch's shape, and a customer must get bit-for-bit the same values
    # alone or in a batch.
    contributions = np.stack([(gain * plan.weights).sum(axis=1) for gain in gains])
    return Attribution(contributions, games[:, -1].copy(), float(games[0, 0]))


def baseline_shapley(predict: Predict, customers: Matrix, reference: Matrix) -> Attribution:
    """Exact baseline Shapley values of ``predict`` for each row of ``customers``:
    one ``predict`` call on ``len(customers) * 2**n`` rows."""
    return attribute(predict(coalitions(customers, reference)), customers.shape[1])


def reference_row(reference: Mapping[str, Any]) -> Matrix:
    """The reference customer (snake_case record, as in the card) as one matrix row."""
    row: Matrix = encode_records([reference])[0]
    return row


def reference_customer(matrix: Matrix) -> dict[str, Any]:
    """The reference customer of a training matrix, by ``REFERENCE_RULE``.

    A median, not a mean: one outlying balance does not move it. The lower median, not
    the midpoint of the two middle values: it is a value a training customer really has,
    so integer features stay whole and money stays in cents.
    """
    reference: dict[str, Any] = {}
    for column, feature in enumerate(FEATURES):
        values = matrix[:, column]
        if isinstance(feature, CategoricalFeature):
            counts = np.bincount(values.astype(np.intp), minlength=len(feature.categories))
            reference[feature.name] = feature.categories[int(np.argmax(counts))]
        else:
            median = float(np.quantile(values, 0.5, method="lower"))
            reference[feature.name] = int(median) if feature.integer else median
    return reference


def explanation_section(matrix: Matrix) -> dict[str, Any]:
    """The model card's ``explanation`` field, from the training part's matrix."""
    return {
        "method": METHOD,
        "definition": DEFINITION,
        "reference_rule": REFERENCE_RULE,
        "reference": reference_customer(matrix),
    }
