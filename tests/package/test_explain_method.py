"""bankchurn.explain: exact baseline Shapley values, proven by their axioms and by a
second, independent computation (the permutation definition, written out plainly)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from math import factorial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bankchurn.explain import (
    METHOD,
    REFERENCE_RULE,
    Attribution,
    baseline_shapley,
    coalitions,
    reference_customer,
    reference_row,
)
from bankchurn.predictor import Predictor, load_predictor
from bankchurn.schema import FEATURES, CategoricalFeature, Matrix, encode_records

N = len(FEATURES)
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def feature_value(feature: Any) -> st.SearchStrategy[Any]:
    if isinstance(feature, CategoricalFeature):
        return st.sampled_from(feature.categories)
    if feature.integer:
        return st.integers(int(feature.minimum), int(feature.maximum))
    # Money in cents, as customers have it, up to the schema's maximum.
    return st.integers(0, int(feature.maximum * 100)).map(lambda cents: cents / 100)


customers = st.fixed_dictionaries({f.name: feature_value(f) for f in FEATURES})


@pytest.fixture(scope="module")
def sklearn_model(committed_model_dir: Path) -> Predictor:
    return load_predictor(committed_model_dir, backend="sklearn")


@pytest.fixture(scope="module")
def reference(sklearn_model: Predictor) -> Matrix:
    return reference_row(sklearn_model.card["explanation"]["reference"])


def explain(model: Predictor, customer: dict[str, Any], reference: Matrix) -> Attribution:
    return baseline_shapley(model.predict_proba, encode_records([customer]), reference)


@EXAMPLES
@given(customer=customers)
def test_contributions_add_up_to_the_customers_probability_minus_the_references(
    sklearn_model: Predictor, reference: Matrix, customer: dict[str, Any]
) -> None:
    result = explain(sklearn_model, customer, reference)

    p_customer = sklearn_model.predict_proba(encode_records([customer]))[0]
    p_reference = sklearn_model.predict_proba(reference[None, :])[0]
    assert result.contributions.shape == (1, N)
    assert abs(result.contributions.sum() - (p_customer - p_reference)) <= 1e-9
    assert result.probabilities[0] == p_customer
    assert result.reference_probability == p_reference


@EXAMPLES
@given(customer=customers, same=st.sets(st.integers(0, N - 1), min_size=1))
def test_a_feature_equal_to_the_reference_gets_exactly_zero(
    sklearn_model: Predictor, reference: Matrix, customer: dict[str, Any], same: set[int]
) -> None:
    reference_record = sklearn_model.card["explanation"]["reference"]
    for i in same:
        customer[FEATURES[i].name] = reference_record[FEATURES[i].name]

    contributions = explain(sklearn_model, customer, reference).contributions[0]

    assert [contributions[i] for i in sorted(same)] == [0.0] * len(same)


def symmetric_in(i: int, j: int) -> Callable[[Matrix], Any]:
    """A small nonlinear model whose output does not change when columns i and j swap."""
    weights = np.linspace(-0.3, 0.4, N)
    weights[j] = weights[i]

    def predict(matrix: Matrix) -> Any:
        a, b = matrix[:, i], matrix[:, j]
        score = matrix @ weights * 0.01 + 0.05 * a * b - 0.2 * (np.sin(a) + np.sin(b))
        return 1 / (1 + np.exp(-score))

    return predict


rows = st.lists(st.floats(-50, 50, allow_nan=False), min_size=N, max_size=N)


@settings(max_examples=100, deadline=None)
@given(
    x=rows,
    r=rows,
    pair=st.lists(st.integers(0, N - 1), min_size=2, max_size=2, unique=True),
    a=st.floats(-50, 50),
    b=st.floats(-50, 50),
)
def test_two_inputs_the_model_treats_alike_get_equal_contributions(
    x: list[float], r: list[float], pair: list[int], a: float, b: float
) -> None:
    i, j = pair
    x[i] = x[j] = a  # the customer has the same value in both,
    r[i] = r[j] = b  # and so has the reference

    result = baseline_shapley(symmetric_in(i, j), np.array([x]), np.array(r))

    assert result.contributions[0, i] == pytest.approx(result.contributions[0, j], abs=1e-12)


# --- an independent computation: the Shapley value as the average, over every order of
# the 10 features, of what each feature adds when it joins (Shapley 1953's definition).


@pytest.fixture(scope="module")
def every_order() -> np.ndarray:
    orders = itertools.permutations(range(N))
    return np.fromiter(orders, dtype=np.dtype((np.int8, N)), count=factorial(N))


def permutation_average(predict: Any, x: list[float], r: list[float], orders: np.ndarray) -> Any:
    # v(S) for every coalition, rows built one by one: feature i is the customer's if bit i is set.
    rows = [[x[i] if code >> i & 1 else r[i] for i in range(N)] for code in range(2**N)]
    v = predict(np.array(rows, dtype=np.float64))
    joined = np.cumsum(1 << orders.astype(np.int64), axis=1)  # coalition after each step
    before = joined - (1 << orders.astype(np.int64))
    gains = v[joined] - v[before]
    totals = np.bincount(orders.ravel(), weights=gains.ravel(), minlength=N)
    return totals / len(orders)


def test_values_equal_the_average_over_all_3628800_orders_of_the_features(
    sklearn_model: Predictor, reference: Matrix, every_order: np.ndarray
) -> None:
    spread = [
        {"credit_score": 420, "geography": "Germany", "gender": "Female", "age": 58,
         "tenure": 1, "balance": 125_510.82, "num_of_products": 3, "has_cr_card": 0,
         "is_active_member": 0, "estimated_salary": 40_000.0},
        {"credit_score": 850, "geography": "Spain", "gender": "Male", "age": 23,
         "tenure": 9, "balance": 0.0, "num_of_products": 2, "has_cr_card": 1,
         "is_active_member": 1, "estimated_salary": 180_000.5},
    ]  # fmt: skip
    for customer in spread:
        row = encode_records([customer])[0]
        expected = permutation_average(
            sklearn_model.predict_proba, list(row), list(reference), every_order
        )

        got = explain(sklearn_model, customer, reference).contributions[0]

        # 1e-10: the brute force adds up 362,880 terms per feature, with their rounding.
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
        assert np.abs(got).max() > 0.01  # a customer with real reasons


def test_the_permutation_average_agrees_on_a_model_with_interactions(
    every_order: np.ndarray,
) -> None:
    x = [float(v) for v in np.linspace(1, 3, N)]
    r = [0.5] * N
    predict = symmetric_in(2, 5)

    expected = permutation_average(predict, x, r, every_order)
    got = baseline_shapley(predict, np.array([x]), np.array(r)).contributions[0]

    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    assert np.abs(got).max() > 0.01


def test_several_customers_are_explained_in_one_model_call(
    sklearn_model: Predictor, reference: Matrix
) -> None:
    calls: list[int] = []

    def counting(matrix: Matrix) -> Any:
        calls.append(len(matrix))
        return sklearn_model.predict_proba(matrix)

    batch = encode_records([{**sklearn_model.card["explanation"]["reference"], "age": a}
                            for a in (25, 45, 65)])  # fmt: skip
    together = baseline_shapley(counting, batch, reference)
    alone = [baseline_shapley(counting, batch[i : i + 1], reference) for i in range(3)]

    assert calls == [3 * 1024, 1024, 1024, 1024]
    for i, single in enumerate(alone):
        np.testing.assert_array_equal(together.contributions[i], single.contributions[0])


def test_coalitions_run_from_the_reference_to_the_customer() -> None:
    customer, reference = np.arange(1.0, N + 1), np.zeros(N)

    mixes = coalitions(customer[None, :], reference)

    assert mixes.shape == (1024, N)
    np.testing.assert_array_equal(mixes[0], reference)
    np.testing.assert_array_equal(mixes[-1], customer)
    np.testing.assert_array_equal(mixes[0b101], [1, 0, 3, 0, 0, 0, 0, 0, 0, 0])


def test_coalitions_refuse_a_reference_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="one reference row"):
        coalitions(np.zeros((2, N)), np.zeros(N - 1))


def test_the_reference_is_the_lower_median_and_the_most_frequent_category() -> None:
    records = [
        {"credit_score": 600, "geography": "Spain", "gender": "Male", "age": 30, "tenure": 1,
         "balance": 10.5, "num_of_products": 1, "has_cr_card": 0, "is_active_member": 1,
         "estimated_salary": 1000.0},
        {"credit_score": 700, "geography": "Germany", "gender": "Female", "age": 41,
         "tenure": 2, "balance": 20.25, "num_of_products": 2, "has_cr_card": 1,
         "is_active_member": 0, "estimated_salary": 3000.0},
        {"credit_score": 650, "geography": "Germany", "gender": "Male", "age": 35, "tenure": 3,
         "balance": 30.0, "num_of_products": 2, "has_cr_card": 1, "is_active_member": 0,
         "estimated_salary": 2000.0},
        {"credit_score": 900, "geography": "Spain", "gender": "Female", "age": 60, "tenure": 4,
         "balance": 99.99, "num_of_products": 4, "has_cr_card": 0, "is_active_member": 1,
         "estimated_salary": 9000.0},
    ]  # fmt: skip

    reference = reference_customer(encode_records(records))

    # Four rows: the lower of the two middle values, never their midpoint (650, not 675).
    assert reference == {
        "credit_score": 650, "geography": "Germany", "gender": "Female", "age": 35,
        "tenure": 2, "balance": 20.25, "num_of_products": 2, "has_cr_card": 0,
        "is_active_member": 0, "estimated_salary": 2000.0,
    }  # fmt: skip
    assert [type(reference[f.name]) for f in FEATURES[:4]] == [int, str, str, int]


def test_the_committed_card_records_the_method_and_its_training_reference(
    sklearn_model: Predictor, tmp_path: Path
) -> None:
    from sklearn.model_selection import train_test_split

    from bankchurn.data import frame_to_matrix, load_csv
    from bankchurn.synth import write_csv

    card = sklearn_model.card
    path = tmp_path / "synthetic.csv"
    write_csv(path, rows=10_000, seed=42)
    dataset = load_csv(path)
    x_train, _, _, _ = train_test_split(
        frame_to_matrix(dataset.features),
        dataset.target,
        test_size=card["config"]["split"]["test_size"],
        stratify=dataset.target,
        random_state=card["config"]["seed"],
    )

    assert card["explanation"]["method"] == METHOD == "baseline_shapley"
    assert card["explanation"]["reference_rule"] == REFERENCE_RULE
    assert card["explanation"]["reference"] == reference_customer(x_train)
    for feature in FEATURES:
        assert feature.check(card["explanation"]["reference"][feature.name]) is None


def test_the_card_summary_names_the_reference_or_says_there_is_none(
    sklearn_model: Predictor,
) -> None:
    from bankchurn.card import describe_explanation

    card = sklearn_model.card
    old = {k: v for k, v in card.items() if k != "explanation"}

    assert describe_explanation(card).startswith(
        "Reason codes: baseline_shapley against the reference customer credit_score "
    )
    assert "age 37" in describe_explanation(card)
    assert describe_explanation(old) == (
        "Reason codes: none (trained before reference customers were recorded)."
    )
