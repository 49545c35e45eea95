"""The risk-band policy: the one definition, applied by scoring and shown by GET /model.

  high    probability >= threshold            (the model's churn decision)
  medium  threshold / 2 <= probability < threshold
  low     probability < threshold / 2
Bands scale with the threshold, so an override (BANKCHURN_THRESHOLD) moves them too.
"""

from __future__ import annotations

from app.schemas import RiskBand


def risk_band(probability: float, threshold: float) -> RiskBand:
    if probability >= threshold:
        return "high"
    if probability >= threshold / 2:
        return "medium"
    return "low"


def describe_risk_bands(threshold: float) -> dict[str, str]:
    half = threshold / 2  # exact values: a rounded bound would misplace customers near it
    return {
        "high": f"churn_probability >= {threshold}",
        "medium": f"{half} <= churn_probability < {threshold}",
        "low": f"churn_probability < {half}",
    }
