"""``GET /model``'s response: the model card as the API describes it, field by field."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas import CustomerFeatures


class CardModel(BaseModel):
    """Base of the model-card models: parsed from the card file, unknown keys dropped.

    Only what is listed here leaves the service: the card's training ``config`` (which
    holds local paths) and MLflow tracking URIs are deliberately not exposed.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)


class FeatureDoc(CardModel):
    name: str
    column: str
    description: str
    type: Literal["integer", "number", "category"]
    minimum: float | None = None
    maximum: float | None = None
    categories: list[str] | None = None


class FeatureSchema(CardModel):
    features: list[FeatureDoc] = Field(min_length=1)
    target: str


class ThresholdInfo(CardModel):
    value: float = Field(gt=0.0, lt=1.0)
    policy: str
    description: str


class TrainingDataInfo(CardModel):
    file: str = Field(description="File name only; the training machine's path is not exposed.")
    sha256: str
    rows: int
    positive_rate: float
    dropped_rows: int

    @field_validator("file")
    @classmethod
    def _name_only(cls, file: str) -> str:
        return PurePath(file).name


class ArtifactInfo(CardModel):
    sha256: str
    bytes: int


class MlflowInfo(CardModel):
    """Where the served model came from in MLflow (present when it was registered)."""

    run_id: str
    registered_model: str | None = None
    registered_version: str | None = None
    aliases: list[str] = Field(default_factory=list, description="Aliases at export time.")


class OnnxParity(CardModel):
    rows: int
    max_abs_diff: float
    tolerance: float
    decisions_identical: bool
    passed: bool


class OnnxInfo(CardModel):
    """The ONNX export: its file (None when refused), parity with scikit-learn, versions."""

    file: str | None
    parity: OnnxParity | None = None
    reason: str | None = Field(None, description="Why there is no ONNX file, if there is none.")
    opset: dict[str, int]
    skl2onnx: str
    onnxruntime: str


class DriftBins(CardModel):
    """One feature's reference: numeric bins ``[lo, hi)`` between ``edges`` (first and last
    open-ended), or one bin per category; ``shares`` of the training rows, per bin."""

    name: str
    type: Literal["numeric", "category"]
    edges: list[float] = Field(description="Inner edges of a numeric feature; [] for a category.")
    bins: list[str]
    shares: list[float]


class DriftReferenceInfo(CardModel):
    """What feature drift (PSI, bankchurn_feature_* metrics) is measured against."""

    method: Literal["psi"]
    epsilon: float = Field(description="Floor of a share in PSI, so an empty bin stays finite.")
    source: str
    rows: int
    features: list[DriftBins]


class ReferenceCustomer(CustomerFeatures):
    """The reference customer of the reason codes, checked against the feature schema."""


class ExplanationInfo(CardModel):
    """How reasons are computed: the method, its definition and the reference customer."""

    method: Literal["baseline_shapley"]
    definition: str
    reference_rule: str = Field(description="How the reference was chosen at training.")
    reference: ReferenceCustomer


class ServingInfo(CardModel):
    backend: str
    threshold: float = Field(gt=0.0, lt=1.0, description="Threshold this service applies.")
    threshold_source: Literal["model_card", "override"]
    risk_bands: dict[str, str]


class ModelCardResponse(CardModel):
    """The model card as served by GET /model: provenance, quality, contract, serving."""

    model_name: str
    model_version: str
    created_at: str
    estimator: str
    threshold: ThresholdInfo
    metrics: dict[str, Any]
    feature_schema: FeatureSchema = Field(validation_alias="schema", serialization_alias="schema")
    training_data: TrainingDataInfo
    versions: dict[str, str]
    version_policy: dict[str, str]
    artifacts: dict[str, ArtifactInfo]
    mlflow: MlflowInfo | None = Field(
        None, description="MLflow run and registry version, when the model was registered."
    )
    onnx: OnnxInfo | None = Field(
        None, description="The ONNX export and its parity check (models trained since #6)."
    )
    drift_reference: DriftReferenceInfo | None = Field(
        None,
        description="Each feature's training distribution, the reference of the drift "
        "metrics and PSI (models trained since #13; absent before: no drift metrics).",
    )
    explanation: ExplanationInfo | None = Field(
        None,
        description="Reason codes: method and reference customer (null: trained before "
        "#14; ?explain=true is then refused with 409 until the model is retrained).",
    )
    serving: ServingInfo
