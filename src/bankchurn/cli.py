"""The `bankchurn` command: a thin argparse layer over the package's functions.

Expected failures (bad data, bad config, unusable model, registry errors) print one
clear message to stderr and exit 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bankchurn.errors import BankchurnError

if TYPE_CHECKING:
    from bankchurn.data import Dataset

# Exit codes: 0 success, 2 the input or environment was unusable (message on stderr).
EXIT_USAGE = 2
DEFAULT_CONFIG = Path("configs/train.yaml")


def _synth(args: argparse.Namespace) -> int:
    from bankchurn.synth import write_csv

    write_csv(args.out, rows=args.rows, seed=args.seed)
    print(f"wrote {args.rows} synthetic rows (seed {args.seed}) to {args.out}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from bankchurn.data import load_csv

    dataset = load_csv(args.path, drop_invalid=args.drop_invalid)
    _report_load(dataset)
    return 0


def _report_load(dataset: Dataset, *, labelled: bool = True) -> None:
    rate = f", positive rate {dataset.positive_rate:.2%}" if labelled else ""
    print(f"{dataset.path}: {dataset.rows} valid rows{rate}")
    if dataset.dropped_rows:
        print(f"dropped {dataset.dropped_rows} invalid row(s):", file=sys.stderr)
        for error in dataset.errors:
            print(f"  {error}", file=sys.stderr)
    if dataset.ignored_columns:
        print(f"ignored unknown column(s): {', '.join(dataset.ignored_columns)}", file=sys.stderr)


def _train(args: argparse.Namespace) -> int:
    from bankchurn.card import describe_onnx, render_summary, save_model
    from bankchurn.config import load_config
    from bankchurn.data import load_csv
    from bankchurn.train import train

    config = load_config(args.config)
    dataset = load_csv(args.data, drop_invalid=args.drop_invalid)
    _report_load(dataset)
    result = train(dataset, config)
    card = save_model(result, dataset, config, args.out)
    tracking_uri = args.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if tracking_uri:
        from bankchurn.registry import log_and_register

        provenance = log_and_register(tracking_uri, result, card, args.out)
        decision = provenance["champion_challenger"]
        print(
            f"MLflow run {provenance['run_id']}: registered {provenance['registered_model']} "
            f"version {provenance['registered_version']}, "
            + ("promoted to champion" if decision["promoted"] else "kept as challenger")
        )
    print(render_summary(card))
    print(f"model written to {args.out}")
    if not card["onnx"]["file"]:
        print(
            f"warning: {describe_onnx(card)} BANKCHURN_BACKEND=onnx cannot serve it.",
            file=sys.stderr,
        )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from bankchurn.data import frame_to_matrix, load_csv
    from bankchurn.evaluate import classification_metrics
    from bankchurn.predictor import load_checked_predictor

    predictor = load_checked_predictor(args.model)
    dataset = load_csv(args.data, drop_invalid=args.drop_invalid)
    _report_load(dataset)
    scores = predictor.predict_proba(frame_to_matrix(dataset.features))
    threshold = float(predictor.card["threshold"]["value"])
    metrics = classification_metrics(dataset.target, scores, threshold)
    print(json.dumps(metrics, indent=2))
    return 0


def _plots(args: argparse.Namespace) -> int:
    from bankchurn.report import redraw_plots

    for path in redraw_plots(args.model, args.data).values():
        print(f"wrote {path}")
    return 0


def _tracking_uri(args: argparse.Namespace) -> str | None:
    """--tracking-uri, else MLFLOW_TRACKING_URI; None (after saying so) when neither is set."""
    tracking_uri: str | None = args.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not tracking_uri:
        print("error: pass --tracking-uri or set MLFLOW_TRACKING_URI", file=sys.stderr)
        return None
    return tracking_uri


def _publish(args: argparse.Namespace) -> int:
    from bankchurn.publish import CHAMPION_LINK, publish_champion

    tracking_uri = _tracking_uri(args)
    if tracking_uri is None:
        return EXIT_USAGE
    target = publish_champion(tracking_uri, args.export_dir, args.uri)
    print(f"champion (version {target.name}) published at {args.export_dir / CHAMPION_LINK}")
    return 0


def _drift(args: argparse.Namespace) -> int:
    from bankchurn.artifacts import read_card
    from bankchurn.data import frame_to_matrix, load_csv
    from bankchurn.drift import psi_by_feature, reference_from_card, verdict

    reference = reference_from_card(read_card(args.model))
    if reference is None:
        print(
            f"error: the model card in {args.model} has no drift_reference (trained before "
            "feature drift monitoring); retrain the model to get one",
            file=sys.stderr,
        )
        return EXIT_USAGE
    dataset = load_csv(args.data, drop_invalid=args.drop_invalid, require_target=False)
    scores = psi_by_feature(reference, frame_to_matrix(dataset.features))
    if args.json:
        print(json.dumps({"rows": dataset.rows, "psi": scores}, indent=2))
        return 0
    _report_load(dataset, labelled=False)
    print(f"PSI against the training reference ({reference.rows} rows), per feature:")
    for name, value in scores.items():
        print(f"  {name:<18} {value:.6f}  {verdict(value)}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from bankchurn.artifacts import check_versions, read_card, read_verified
    from bankchurn.card import render_summary

    card = read_card(args.model)
    for name in card.get("artifacts", {}):
        read_verified(args.model, card, name)
    check_versions(card)
    print(json.dumps(card, indent=2) if args.json else render_summary(card))
    return 0


def _export(args: argparse.Namespace) -> int:
    from bankchurn.registry import export_model

    tracking_uri = _tracking_uri(args)
    if tracking_uri is None:
        return EXIT_USAGE
    card = export_model(tracking_uri, args.uri, args.out)
    mlflow = card["mlflow"]
    print(
        f"exported {args.uri} (version {mlflow['registered_version']}, run {mlflow['run_id']}, "
        f"model {card['model_version']}) to {args.out}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bankchurn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="make or check datasets").add_subparsers(
        dest="data_command", required=True
    )
    synth = data.add_parser("synth", help="write a deterministic synthetic dataset")
    synth.add_argument("--rows", type=int, default=10_000)
    synth.add_argument("--seed", type=int, default=42)
    synth.add_argument("--out", type=Path, required=True)
    synth.set_defaults(run=_synth)
    validate = data.add_parser("validate", help="check a CSV row by row against the schema")
    validate.add_argument("path", type=Path)
    validate.add_argument(
        "--drop-invalid", action="store_true", help="report bad rows but succeed on the valid ones"
    )
    validate.set_defaults(run=_validate)

    train = commands.add_parser("train", help="train, evaluate and write a model")
    train.add_argument("--data", type=Path, required=True, help="CSV with the Kaggle columns")
    train.add_argument("--out", type=Path, default=Path("models"))
    train.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    train.add_argument(
        "--drop-invalid",
        action="store_true",
        help="train on the valid rows only, reporting the dropped ones",
    )
    train.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("evaluate", help="score a saved model on a labelled CSV")
    evaluate.add_argument("--model", type=Path, default=Path("models"))
    evaluate.add_argument("--data", type=Path, required=True)
    evaluate.add_argument("--drop-invalid", action="store_true")
    evaluate.set_defaults(run=_evaluate)

    drift = commands.add_parser(
        "drift", help="PSI per feature of a CSV against the model's training reference"
    )
    drift.add_argument("--model", type=Path, default=Path("models"))
    drift.add_argument("--data", type=Path, required=True, help="CSV with the feature columns")
    drift.add_argument("--drop-invalid", action="store_true")
    drift.add_argument("--json", action="store_true", help="print {rows, psi: {feature: value}}")
    drift.set_defaults(run=_drift)

    report = commands.add_parser("report", help="a saved model's report").add_subparsers(
        dest="report_command", required=True
    )
    plots = report.add_parser(
        "plots",
        help="redraw MODEL_FOLDER/plots/*.png (ROC, precision-recall, calibration, scores) and "
        "MODEL_CARD.md from the model's holdout, found again in its training CSV",
    )
    plots.add_argument("--model", type=Path, default=Path("models"))
    plots.add_argument("--data", type=Path, required=True, help="the CSV the model trained on")
    plots.set_defaults(run=_plots)

    model = commands.add_parser("model", help="inspect or export models").add_subparsers(
        dest="model_command", required=True
    )
    show = model.add_parser("show", help="verify a model folder and print its card")
    show.add_argument("--model", type=Path, default=Path("models"))
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_show)
    export = model.add_parser("export", help="download a registered model for the API")
    export.add_argument("--uri", default="models:/bankchurn@champion")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    export.set_defaults(run=_export)
    publish = model.add_parser(
        "publish",
        help="export the champion into EXPORT_DIR/versions/<version> and repoint "
        "EXPORT_DIR/champion at it atomically",
    )
    publish.add_argument("--uri", default="models:/bankchurn@champion")
    publish.add_argument("--export-dir", type=Path, required=True)
    publish.add_argument(
        "--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)"
    )
    publish.set_defaults(run=_publish)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except BankchurnError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    sys.exit(main())
