"""The training configuration: a YAML file under configs/, validated before any work starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bankchurn.errors import BankchurnError


class _Strict(BaseModel):
    # A misspelt key in a config must be an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitConfig(_Strict):
    test_size: float = Field(0.2, gt=0, lt=0.5, description="Share of rows held out.")
    cv_folds: int = Field(5, ge=2, le=20, description="Stratified folds on the training part.")


class EstimatorConfig(_Strict):
    type: Literal["hist_gradient_boosting", "random_forest", "logistic_regression"] = (
        "hist_gradient_boosting"
    )
    params: dict[str, Any] = Field(default_factory=dict)


class ThresholdConfig(_Strict):
    """How the churn decision threshold is chosen, always on out-of-fold predictions.

    - ``max_f1``: the threshold that maximises F1.
    - ``min_recall``: the highest threshold whose recall is still >= ``min_recall``
      (catch at least that share of churners, with as few false alarms as possible).
    - ``fixed``: use ``value`` as given.
    """

    policy: Literal["max_f1", "min_recall", "fixed"] = "max_f1"
    min_recall: float | None = Field(None, gt=0, le=1)
    value: float | None = Field(None, gt=0, lt=1)

    @model_validator(mode="after")
    def _needs_its_parameter(self) -> ThresholdConfig:
        if self.policy == "min_recall" and self.min_recall is None:
            raise ValueError("threshold.policy 'min_recall' needs threshold.min_recall")
        if self.policy == "fixed" and self.value is None:
            raise ValueError("threshold.policy 'fixed' needs threshold.value")
        return self


class TrainConfig(_Strict):
    name: str = Field("default", min_length=1)
    seed: int = 42
    split: SplitConfig = SplitConfig()
    estimator: EstimatorConfig = EstimatorConfig()
    threshold: ThresholdConfig = ThresholdConfig()
    champion_metric: Literal["roc_auc", "pr_auc"] = Field(
        "roc_auc", description="Holdout metric a challenger must beat to become champion."
    )


class ConfigError(BankchurnError):
    """The config file is unreadable or invalid; the message names the file and the key."""


def load_config(path: Path) -> TrainConfig:
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from None
    try:
        return TrainConfig.model_validate(raw or {})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in error.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
