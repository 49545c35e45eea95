"""The reason codes' response model (POST /predict?explain=true), apart from the card's.

Kept out of app/schemas.py so that file stays one screenful per boundary; it depends on
nothing else in the app.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Reason(BaseModel):
    """One feature's part in the customer's score, relative to the reference customer."""

    feature: str = Field(description="The feature's snake_case name (see GET /model).")
    value: int | float | str = Field(description="The customer's value of the feature.")
    reference: int | float | str = Field(description="The reference customer's value.")
    contribution: float = Field(
        description="Change in churn probability this feature accounts for (0.12 = 12 "
        "percentage points); all ten add up to churn_probability - "
        "reference_churn_probability."
    )
    direction: Literal["raises", "lowers", "none"] = Field(
        description="Whether the feature raises or lowers the churn probability against "
        "the reference (none: exactly 0)."
    )
    text: str = Field(description="The reason in words, e.g. 'Not an active member'.")
