"""Reason texts: one template per feature of the schema, saying the value in words."""

from __future__ import annotations

import pytest

from bankchurn.reasons import REASON_TEMPLATES, reason_text
from bankchurn.schema import FEATURE_NAMES


def test_every_feature_of_the_schema_has_a_reason_template_and_no_other() -> None:
    assert list(REASON_TEMPLATES) == list(FEATURE_NAMES)


@pytest.mark.parametrize(
    ("feature", "value", "reference", "text"),
    [
        ("age", 58, 37, "Age 58, reference 37"),
        ("is_active_member", 0, 1, "Not an active member"),
        ("is_active_member", 1, 0, "Active member"),
        ("has_cr_card", 0, 1, "No credit card"),
        ("num_of_products", 3, 1, "Holds 3 products, reference 1"),
        ("num_of_products", 1, 2, "Holds 1 product, reference 2"),
        ("tenure", 1, 5, "1 year with the bank, reference 5"),
        ("geography", "Germany", "France", "Account in Germany, reference France"),
        ("gender", "Female", "Male", "Recorded gender Female, reference Male"),
        ("credit_score", 420, 653, "Credit score 420, reference 653"),
        ("balance", 125_510.82, 97_059.23, "Balance EUR 125,511, reference EUR 97,059"),
        (
            "estimated_salary",
            40_000.0,
            99_061.14,
            "Estimated salary EUR 40,000, reference EUR 99,061",
        ),
    ],
)
def test_reason_texts_say_the_customers_value(feature, value, reference, text) -> None:
    assert reason_text(feature, value, reference) == text
