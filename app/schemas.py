"""Request and response models: the API's boundary, derived from ``bankchurn.schema``.

``CustomerFeatures`` is generated from ``FEATURES`` so no feature name, range or
category is typed twice. Its fields are strict (the JSON string ``"42"`` is not an
age, ``true`` is not 1, ``42.5`` is not a whole number; ``42.0`` is, as in JSON Schema)
and unknown keys are refused, so a typo or an identifier such as ``CustomerId`` is an
error instead of being ignored.
Each feature is accepted under its snake_case name or the dataset's column name.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    create_model,
)
from pydantic_core import PydanticCustomError

from app.reason_schema import Reason
from bankchurn.schema import EXAMPLE_CUSTOMER, FEATURES, CategoricalFeature, Feature

RiskBand = Literal["low", "medium", "high"]
# Client ids are echoed back and may be logged: a conservative alphabet keeps them inert.
ClientId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Optional id chosen by the client, echoed back unchanged. Never used "
        "by the model.",
    ),
]
EXAMPLE_ID = "customer-0042"


def _whole_number(value: Any) -> Any:
    """Let 42.0 through as 42 and nothing else: JSON has one number type and JSON Schema's
    "integer" includes 42.0, so clients serialising floats are right; 42.5, "42" and
    true still fail (the last two in the strict int check that follows). Infinity and NaN
    (which Python's json reads) fail here, so int fields need no ``allow_inf_nan``: pydantic
    checks that with a Python call per value, two per field with this one."""
    if not isinstance(value, float):
        return value
    if value.is_integer():  # False for Infinity and NaN
        return int(value)
    if math.isfinite(value):
        raise PydanticCustomError(
            "int_from_float", "Input should be a whole number, got one with a fractional part"
        )
    raise PydanticCustomError(
        "finite_number",
        "Input should be a finite whole number, got {value} (not a number JSON allows)",
        {"value": str(value).replace("inf", "Infinity").replace("nan", "NaN")},
    )


class StrictModel(BaseModel):
    """Base of every request model: no coercion, no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _feature_field(feature: Feature) -> tuple[Any, Any]:
    """The (type, FieldInfo) pair of one feature, for ``create_model``."""
    description = f"{feature.description} Also accepted as `{feature.column}`."
    alias = AliasChoices(feature.name, feature.column)
    if isinstance(feature, CategoricalFeature):
        return Literal[feature.categories], Field(description=description, validation_alias=alias)
    if feature.integer:  # integral bounds, so the OpenAPI schema shows 18, not 18.0
        whole = Annotated[int, BeforeValidator(_whole_number)]
        low, high = int(feature.minimum), int(feature.maximum)
        return whole, Field(ge=low, le=high, description=description, validation_alias=alias)
    field = Field(
        ge=feature.minimum,
        le=feature.maximum,
        allow_inf_nan=False,
        description=description,
        validation_alias=alias,
    )
    return float, field


_FEATURE_FIELDS: dict[str, Any] = {feature.name: _feature_field(feature) for feature in FEATURES}
CustomerFeatures = create_model(
    "CustomerFeatures",
    __base__=StrictModel,
    __doc__="One bank customer, described by the model's features (see GET /model).",
    **_FEATURE_FIELDS,
)


class PredictRequest(CustomerFeatures):
    """A customer to score, with an optional client id that is echoed back."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**EXAMPLE_CUSTOMER, "id": EXAMPLE_ID}]}
    )

    id: ClientId | None = None


class BatchRequest(StrictModel):
    """Customers to score in one call; results come back in the same order."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"customers": [{**EXAMPLE_CUSTOMER, "id": EXAMPLE_ID}]}]}
    )

    customers: list[PredictRequest] = Field(
        min_length=1,
        description="At least one customer and at most BANKCHURN_MAX_BATCH (default 1,000); "
        "a larger batch is refused with 413.",
    )


class ChurnPrediction(BaseModel):
    """The model's answer for one customer."""

    id: str | None = Field(None, description="The client id sent with the customer, if any.")
    churn_probability: float = Field(ge=0.0, le=1.0, description="P(customer leaves the bank).")
    churn: bool = Field(description="churn_probability >= threshold.")
    risk_band: RiskBand = Field(
        description="high: p >= threshold; medium: p >= threshold / 2; low: otherwise."
    )
    threshold: float = Field(gt=0.0, lt=1.0, description="Decision threshold in use.")
    model_version: str = Field(description="Version of the model that produced the score.")
    # Present only with ?explain=true (the routes leave unset fields out of the answer).
    reasons: list[Reason] | None = Field(
        None,
        description="With explain=true only: the k features that move this customer's "
        "probability most, largest |contribution| first (docs/explanations.md).",
    )
    reference_churn_probability: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="With explain=true only: the churn probability of the reference "
        "customer, which the contributions start from.",
    )


class BatchResponse(BaseModel):
    """One prediction per customer, in request order."""

    model_version: str
    threshold: float = Field(gt=0.0, lt=1.0)
    predictions: list[ChurnPrediction]


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ReadinessResponse(BaseModel):
    status: Literal["ready"] = "ready"
    model_version: str
    backend: str


class ErrorDetail(BaseModel):
    """One problem with the request: where (``loc``), what (``msg``), which kind (``type``)."""

    loc: list[str | int] = Field(examples=[["body", "customers", 3, "age"]])
    msg: str = Field(examples=["Input should be a valid integer"])
    type: str = Field(examples=["int_type"])


class ErrorBody(BaseModel):
    code: str = Field(
        description="Stable machine-readable code, e.g. validation_error, payload_too_large, "
        "batch_too_large, model_not_ready, not_found, internal_error, "
        "explanation_unavailable.",
        examples=["validation_error"],
    )
    message: str = Field(description="What went wrong and what to do, for humans.")
    request_id: str = Field(description="Also in the X-Request-ID header and the service log.")
    reason: str | None = Field(
        None,
        description="Why the model is not ready (model_not_ready only), e.g. loading, "
        "card_missing, artifact_missing, checksum_mismatch, version_mismatch.",
    )
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The single shape of every error the service returns (4xx and 5xx)."""

    error: ErrorBody
