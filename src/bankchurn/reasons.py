"""Reason texts: one short sentence per feature, kept next to the schema it describes.

A reason says what the customer's value is and, where a number would mean little on its
own, what the reference customer's is ("Age 58, reference 37"): a contribution is always
relative to that reference. Yes/no features read as a plain statement ("Not an active
member"). The texts state facts about the customer, never a cause: see
docs/explanations.md. ``REASON_TEMPLATES`` has one entry per feature of the schema
(tests/package/test_reasons.py checks it), keyed by the feature's snake_case name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Template = Callable[[Any, Any], str]


def _euros(amount: float) -> str:
    return f"EUR {amount:,.0f}"


def _yes_no(yes: str, no: str) -> Template:
    return lambda value, reference: yes if value else no


def _products(value: Any, reference: Any) -> str:
    noun = "product" if value == 1 else "products"
    return f"Holds {value} {noun}, reference {reference}"


def _tenure(value: Any, reference: Any) -> str:
    noun = "year" if value == 1 else "years"
    return f"{value} {noun} with the bank, reference {reference}"


REASON_TEMPLATES: dict[str, Template] = {
    "credit_score": lambda value, reference: f"Credit score {value}, reference {reference}",
    "geography": lambda value, reference: f"Account in {value}, reference {reference}",
    "gender": lambda value, reference: f"Recorded gender {value}, reference {reference}",
    "age": lambda value, reference: f"Age {value}, reference {reference}",
    "tenure": _tenure,
    "balance": lambda value, reference: f"Balance {_euros(value)}, reference {_euros(reference)}",
    "num_of_products": _products,
    "has_cr_card": _yes_no("Has a credit card", "No credit card"),
    "is_active_member": _yes_no("Active member", "Not an active member"),
    "estimated_salary": lambda value, reference: (
        f"Estimated salary {_euros(value)}, reference {_euros(reference)}"
    ),
}


def reason_text(feature: str, value: Any, reference: Any) -> str:
    """The sentence for ``feature`` (snake_case name) at the customer's ``value``."""
    return REASON_TEMPLATES[feature](value, reference)
