"""Open Inference Protocol request bodies for the tests, built the way a client would.

The wire contract is spelt out here (names and datatypes a client reads from the model
metadata), not taken from app.v2_codec, so a change of contract fails the tests.
"""

from __future__ import annotations

from typing import Any

from bankchurn.schema import EXAMPLE_CUSTOMER

# (input name, datatype, key in a native /predict record), in the schema's order.
WIRE_INPUTS: tuple[tuple[str, str, str], ...] = (
    ("CreditScore", "INT64", "credit_score"),
    ("Geography", "BYTES", "geography"),
    ("Gender", "BYTES", "gender"),
    ("Age", "INT64", "age"),
    ("Tenure", "INT64", "tenure"),
    ("Balance", "FP64", "balance"),
    ("NumOfProducts", "INT64", "num_of_products"),
    ("HasCrCard", "INT64", "has_cr_card"),
    ("IsActiveMember", "INT64", "is_active_member"),
    ("EstimatedSalary", "FP64", "estimated_salary"),
)
INPUT_INDEX = {name: index for index, (name, _, _) in enumerate(WIRE_INPUTS)}
INFER = "/v2/models/bankchurn/infer"


def customers(n: int) -> list[dict[str, Any]]:
    """n different, valid customers (ages, countries, products and activity vary)."""
    return [
        {
            **EXAMPLE_CUSTOMER,
            "age": 20 + (7 * i) % 80,
            "geography": ("France", "Germany", "Spain")[i % 3],
            "num_of_products": 1 + i % 3,
            "is_active_member": i % 2,
            "balance": 1000.5 * i,
        }
        for i in range(n)
    ]


def v2_body(records: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    inputs = [
        {
            "name": name,
            "shape": [len(records)],
            "datatype": datatype,
            "data": [r[key] for r in records],
        }
        for name, datatype, key in WIRE_INPUTS
    ]
    return {"inputs": inputs, **extra}


def with_input(body: dict[str, Any], name: str, **changes: Any) -> dict[str, Any]:
    """``body`` with the named input's fields replaced."""
    inputs = [{**i, **changes} if i["name"] == name else i for i in body["inputs"]]
    return {**body, "inputs": inputs}
