"""Feature drift: each feature's reference distribution, the bin of a value, and PSI.

The one definition, used at training (the reference in the model card), online (the
API counts every scored customer into its bins) and offline (``bankchurn drift``):

- numeric feature: about ``TARGET_BINS`` quantile bins of the training part. The inner
  edges are training deciles (observed values, rounded to 3 significant digits so the
  labels read well), deduplicated, without the training minimum, so no bin is empty in
  the reference. Bins are ``[lo, hi)``; the first and last are open-ended ("< 35",
  ">= 70"), so every value, however far out, has a bin.
- categorical feature: one bin per category of the schema, in schema order (a category
  absent from the training rows keeps a bin with share 0).
- PSI = sum over bins of (o - r) * ln(o / r), with o (observed) and r (reference) shares
  clamped below at ``EPSILON`` so an empty bin counts as a large, finite shift. The
  Prometheus rule (infra/prometheus/rules/bankchurn-drift.yaml) computes exactly this.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from bankchurn.errors import BankchurnError
from bankchurn.schema import FEATURES, CategoricalFeature, Matrix

TARGET_BINS = 10
# Label cardinality bound per feature (Prometheus series = features x bins); checked on load.
MAX_BINS = 12
# Floor of a share in PSI: an empty bin against a 10 % reference adds ~0.69, not infinity.
EPSILON = 1e-4
# The usual PSI reading: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 significant shift.
MODERATE_PSI = 0.1
SIGNIFICANT_PSI = 0.25
Counts = npt.NDArray[np.int64]


class DriftReferenceError(BankchurnError):
    """The card's drift reference is malformed or does not fit this service's features."""


@dataclass(frozen=True)
class FeatureBins:
    """One feature's bins: numeric (``edges`` are the inner edges) or categorical (no edges)."""

    name: str
    kind: str  # "numeric" or "category"
    labels: tuple[str, ...]
    shares: tuple[float, ...]
    edges: tuple[float, ...] = ()

    def bin_of(self, value: float) -> int:
        """The bin of one value (model encoding: a category is its index). Per scored row."""
        if self.kind == "category":
            return int(value)
        return bisect_right(self.edges, value)

    def counts(self, values: npt.NDArray[np.float64]) -> Counts:
        """Rows per bin for many values: the same bins as ``bin_of``, vectorised."""
        if self.kind == "category":
            index = values.astype(np.int64)
        else:
            # side="right" is bisect_right: a value equal to an edge opens the next bin.
            index = np.searchsorted(np.asarray(self.edges), values, side="right")
        return np.bincount(index, minlength=len(self.labels)).astype(np.int64)

    def document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.kind,
            "edges": list(self.edges),  # [] for a category: its bins are its labels
            "bins": list(self.labels),
            "shares": list(self.shares),
        }


@dataclass(frozen=True)
class DriftReference:
    """Every feature's bins, in schema order (the model matrix's column order)."""

    features: tuple[FeatureBins, ...]
    rows: int

    def counts(self, matrix: Matrix) -> list[Counts]:
        """Rows per bin of each feature, for a model input matrix."""
        return [bins.counts(matrix[:, col]) for col, bins in enumerate(self.features)]

    def document(self) -> dict[str, Any]:
        return {
            "method": "psi",
            "epsilon": EPSILON,
            "source": "training part (holdout excluded)",
            "rows": self.rows,
            "features": [bins.document() for bins in self.features],
        }


def _round(value: float) -> float:
    """3 significant digits: readable labels; the shares are computed with these edges."""
    if value == 0:
        return 0.0
    return float(round(value, 2 - math.floor(math.log10(abs(value)))))


def _fmt(value: float) -> str:
    return f"{value:g}"


def numeric_labels(edges: Sequence[float]) -> tuple[str, ...]:
    if not edges:
        return ("all",)
    inner = [f"[{_fmt(lo)}, {_fmt(hi)})" for lo, hi in pairwise(edges)]
    return (f"< {_fmt(edges[0])}", *inner, f">= {_fmt(edges[-1])}")


def numeric_edges(values: npt.NDArray[np.float64]) -> tuple[float, ...]:
    """Inner edges: rounded training deciles above the minimum, each bin non-empty."""
    quantiles = np.quantile(values, np.arange(1, TARGET_BINS) / TARGET_BINS, method="lower")
    floor = float(values.min())
    edges = sorted({_round(float(q)) for q in quantiles if _round(float(q)) > floor})
    # Rounding can leave a bin without training rows; merge it into its left neighbour.
    while edges:
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        empty = [i for i, count in enumerate(counts) if count == 0]
        if not empty:
            break
        edges.pop(max(empty[0] - 1, 0))
    return tuple(edges)


def _shares(counts: Counts) -> tuple[float, ...]:
    total = int(counts.sum())
    return tuple(float(count) / total for count in counts)


def build_reference(matrix: Matrix) -> DriftReference:
    """The reference of a model input matrix (the training part, never the holdout)."""
    features: list[FeatureBins] = []
    for col, feature in enumerate(FEATURES):
        values = matrix[:, col]
        if isinstance(feature, CategoricalFeature):
            bins = FeatureBins(feature.name, "category", feature.categories, ())
        else:
            edges = numeric_edges(values)
            bins = FeatureBins(feature.name, "numeric", numeric_labels(edges), (), edges)
        features.append(
            FeatureBins(bins.name, bins.kind, bins.labels, _shares(bins.counts(values)), bins.edges)
        )
    return DriftReference(tuple(features), rows=len(matrix))


def psi(observed: Counts, reference: Sequence[float]) -> float:
    """Population stability index of observed counts against reference shares."""
    total = int(observed.sum())
    if total == 0:
        return math.nan  # no rows: no observed distribution (PromQL gives NaN too)
    result = 0.0
    for count, ref in zip(observed, reference, strict=True):
        o = max(float(count) / total, EPSILON)
        r = max(float(ref), EPSILON)
        result += (o - r) * math.log(o / r)
    return result


def psi_by_feature(reference: DriftReference, matrix: Matrix) -> dict[str, float]:
    return {
        bins.name: psi(counts, bins.shares)
        for bins, counts in zip(reference.features, reference.counts(matrix), strict=True)
    }


def verdict(value: float) -> str:
    if value > SIGNIFICANT_PSI:
        return "significant"
    if value > MODERATE_PSI:
        return "moderate"
    return "stable"


def _fail(message: str) -> DriftReferenceError:
    return DriftReferenceError(f"drift_reference in the model card: {message}; retrain the model")


def reference_from_card(card: dict[str, Any]) -> DriftReference | None:
    """The card's reference, None for a card trained before it existed; malformed -> error."""
    document = card.get("drift_reference")
    if document is None:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("features"), list):
        raise _fail("expected an object with a features list")
    entries: list[Any] = document["features"]
    names = [entry.get("name") if isinstance(entry, dict) else None for entry in entries]
    expected = [feature.name for feature in FEATURES]
    if names != expected:
        raise _fail(f"features' name fields {names} differ from this service's {expected}")
    features = tuple(
        _parse_bins(entry, feature) for entry, feature in zip(entries, FEATURES, strict=True)
    )
    rows = document.get("rows")
    return DriftReference(features, rows=rows if isinstance(rows, int) else 0)


def _parse_bins(entry: dict[str, Any], feature: Any) -> FeatureBins:
    name = feature.name
    labels, shares = entry.get("bins"), entry.get("shares")
    if not (isinstance(labels, list) and all(isinstance(label, str) for label in labels)):
        raise _fail(f"{name}: bins must be a list of labels")
    if not (isinstance(shares, list) and all(isinstance(s, int | float) for s in shares)):
        raise _fail(f"{name}: shares must be a list of numbers")
    if not 1 <= len(labels) <= MAX_BINS or len(set(labels)) != len(labels):
        raise _fail(f"{name}: 1 to {MAX_BINS} distinct bins expected, got {labels}")
    if len(shares) != len(labels) or any(s < 0 for s in shares) or abs(sum(shares) - 1) > 1e-6:
        raise _fail(f"{name}: shares must match bins one to one, non-negative, summing to 1")
    if isinstance(feature, CategoricalFeature):
        if entry.get("type") != "category" or tuple(labels) != feature.categories:
            raise _fail(f"{name}: type 'category' and bins {list(feature.categories)} expected")
        return FeatureBins(name, "category", tuple(labels), tuple(map(float, shares)))
    edges = entry.get("edges")
    if entry.get("type") != "numeric" or not (
        isinstance(edges, list) and all(isinstance(e, int | float) for e in edges)
    ):
        raise _fail(f"{name}: a numeric feature needs type 'numeric' and its edges")
    if len(edges) != len(labels) - 1 or any(b <= a for a, b in pairwise(edges)):
        raise _fail(f"{name}: edges must be increasing, one fewer than the bins")
    return FeatureBins(
        name, "numeric", tuple(labels), tuple(map(float, shares)), tuple(map(float, edges))
    )
