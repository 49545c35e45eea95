"""The model card: what was trained, on what, how well, and how to check the files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bankchurn import schema
from bankchurn.artifacts import ONNX_FILE, SUMMARY_FILE, write_artifacts
from bankchurn.config import TrainConfig
from bankchurn.data import Dataset
from bankchurn.onnx_export import PARITY_TOLERANCE, export_onnx
from bankchurn.schema import MODEL_NAME
from bankchurn.train import TrainResult

_POLICY_TEXT = {
    "max_f1": "threshold maximising F1 on out-of-fold training predictions",
    "min_recall": "highest threshold keeping recall >= {min_recall} on out-of-fold predictions",
    "fixed": "fixed by the training config",
}


def build_card(result: TrainResult, dataset: Dataset, config: TrainConfig) -> dict[str, Any]:
    """The card's content, before the artifact checksums and versions are added."""
    created = datetime.now(UTC).replace(microsecond=0)
    policy = config.threshold
    return {
        "model_name": MODEL_NAME,
        # Sortable by time; the suffix tells apart two models trained in one second.
        "model_version": f"{created:%Y%m%d.%H%M%S}-{dataset.sha256[:7]}",
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "estimator": type(result.pipeline.named_steps["model"]).__name__,
        "config": config.model_dump(mode="json"),
        # The file's name only: a full path would leak the trainer's machine layout.
        "training_data": {"file": dataset.path.name, **dataset.fingerprint()},
        "threshold": {
            "value": result.threshold,
            "policy": policy.policy,
            "description": _POLICY_TEXT[policy.policy].format(min_recall=policy.min_recall),
        },
        "metrics": result.metrics,
        "schema": {"features": schema.as_document(), "target": schema.TARGET_COLUMN},
        "drift_reference": result.drift_reference.document(),
        "explanation": result.explanation,
    }


def save_model(
    result: TrainResult,
    dataset: Dataset,
    config: TrainConfig,
    out_dir: Path,
    onnx_tolerance: float = PARITY_TOLERANCE,
) -> dict[str, Any]:
    """Write the pipeline, its ONNX twin if it passes the parity check on the holdout,
    the card (JSON), the holdout's plots and the human-readable summary that shows them."""
    exported = export_onnx(
        result.pipeline, result.holdout_matrix, result.threshold, tolerance=onnx_tolerance
    )
    card = {**build_card(result, dataset, config), "onnx": exported.report}
    extra = {ONNX_FILE: exported.model} if exported.model is not None else {}
    # A refused export must not leave a previous training's graph beside the new model.
    (out_dir / ONNX_FILE).unlink(missing_ok=True)
    card = write_artifacts(result.pipeline, card, out_dir, extra_files=extra)
    write_report(card, result.holdout_target, result.holdout_scores, out_dir)
    return card


def write_report(card: dict[str, Any], y: Any, p: Any, out_dir: Path) -> dict[str, Path]:
    """The holdout's plots in ``out_dir``/plots and MODEL_CARD.md showing them; the plots'
    paths. ``y``/``p`` are the holdout's labels and scores, the ones the card's metrics use.

    The plots are not card artifacts (nothing loads them, so nothing verifies them)."""
    # matplotlib is training-side only: imported here, never by serving (see bankchurn.plots).
    from bankchurn.plots import PLOT_TITLES, PLOTS_DIR, write_plots

    subtitle = f"{card['model_name']} {card['model_version']}, holdout of {len(y)} rows"
    paths = write_plots(y, p, float(card["threshold"]["value"]), out_dir / PLOTS_DIR, subtitle)
    shown = [
        (PLOT_TITLES[name], path.relative_to(out_dir).as_posix()) for name, path in paths.items()
    ]
    (out_dir / SUMMARY_FILE).write_text(render_summary(card, shown))
    return paths


def describe_onnx(card: dict[str, Any]) -> str:
    """One line on the ONNX export: its parity, or why there is none."""
    onnx = card.get("onnx")
    if not isinstance(onnx, dict):
        return "ONNX: not exported (trained before the ONNX exporter)."
    parity = onnx.get("parity")
    if onnx.get("file") and isinstance(parity, dict):
        return (
            f"ONNX: `{onnx['file']}` (onnxruntime {onnx['onnxruntime']}), parity on "
            f"{parity['rows']} holdout rows: max |diff| {parity['max_abs_diff']:.2g} "
            f"<= {parity['tolerance']:g}, identical decisions."
        )
    return f"ONNX: not exported: {onnx.get('reason', 'no reason recorded')}."


def describe_drift(card: dict[str, Any]) -> str:
    """One line on the drift reference: bins per feature, or that there is none."""
    reference = card.get("drift_reference")
    if not isinstance(reference, dict):
        return "Drift reference: none (trained before feature drift monitoring); retrain for it."
    bins = ", ".join(f"{f['name']} {len(f['bins'])}" for f in reference["features"])
    return f"Drift reference (PSI bins from {reference['rows']} training rows): {bins}."


def describe_explanation(card: dict[str, Any]) -> str:
    """One line on the reason codes: the method and the reference customer, or none."""
    explanation = card.get("explanation")
    if not isinstance(explanation, dict):
        return "Reason codes: none (trained before reference customers were recorded)."
    values = explanation["reference"]  # schema order: the card file sorts its keys
    reference = ", ".join(f"{f.name} {values[f.name]}" for f in schema.FEATURES if f.name in values)
    return (
        f"Reason codes: {explanation['method']} against the reference customer {reference} "
        f"(chosen as {explanation['reference_rule']})."
    )


def describe_plots(plots: Sequence[tuple[str, str]], rows: int) -> list[str]:
    """MODEL_CARD.md's plot section; ``plots`` are (title, path relative to the model folder)."""
    if not plots:
        return []
    return [
        f"Holdout plots ({rows} rows, the metrics above; `bankchurn report plots` redraws them):",
        "",
        *(f"![{title}]({path})" for title, path in plots),
        "",
    ]


def render_summary(card: dict[str, Any], plots: Sequence[tuple[str, str]] = ()) -> str:
    holdout = card["metrics"]["holdout"]
    cv = card["metrics"]["cross_validation"]
    data = card["training_data"]
    cm = holdout["confusion_matrix"]
    lines = [
        f"# Model card: {card['model_name']} {card['model_version']}",
        "",
        f"- Created: {card['created_at']}",
        f"- Estimator: {card['estimator']} (config `{card['config']['name']}`, "
        f"seed {card['config']['seed']})",
        f"- Training data: `{data['file']}`, {data['rows']} rows, positive rate "
        f"{data['positive_rate']:.2%}, sha256 `{data['sha256']}`",
        f"- Decision threshold: {card['threshold']['value']:.4f} "
        f"({card['threshold']['description']})",
        "",
        "| metric | holdout | cross-validation (mean ± std) |",
        "|---|---|---|",
    ]
    for name in ("roc_auc", "pr_auc", "brier"):
        lines.append(
            f"| {name} | {holdout[name]:.4f} | {cv[name]['mean']:.4f} ± {cv[name]['std']:.4f} |"
        )
    lines += [
        f"| f1 / precision / recall at threshold | {holdout['f1']:.3f} / "
        f"{holdout['precision']:.3f} / {holdout['recall']:.3f} | |",
        "",
        f"Holdout confusion matrix ({holdout['rows']} rows): TN {cm['tn']}, FP {cm['fp']}, "
        f"FN {cm['fn']}, TP {cm['tp']}.",
        "",
        *describe_plots(plots, holdout["rows"]),
        describe_onnx(card),
        "",
        describe_drift(card),
        describe_explanation(card),
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(card["versions"].items())) + ".",
        "",
        "Artifacts (sha256):",
        *(f"- `{name}`: `{entry['sha256']}`" for name, entry in sorted(card["artifacts"].items())),
        "",
        "Features: " + ", ".join(f["column"] for f in card["schema"]["features"]) + ".",
        "Identifiers (RowNumber, CustomerId, Surname) are dropped before training.",
        "",
    ]
    return "\n".join(lines)
