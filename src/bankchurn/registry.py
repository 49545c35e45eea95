"""MLflow tracking and registry: log a training run, register it, promote a champion, export.

Champion/challenger rule: a newly registered version takes the ``champion`` alias only
when its holdout metric (the config's ``champion_metric``) is strictly higher than the
current champion's; otherwise it stays a challenger. The decision is written into the
model card and onto the model version as tags.

Training-side only: the API never imports this module (MLflow is ~500 MB).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from bankchurn.artifacts import (
    CARD_FILE,
    check_versions,
    read_card,
    read_verified,
    write_card,
)
from bankchurn.errors import BankchurnError
from bankchurn.train import TrainResult

REGISTERED_MODEL = "bankchurn"
CHAMPION_ALIAS = "champion"
EXPERIMENT = "bankchurn"
# Where the run keeps bankchurn's own artifact folder (pipeline, ONNX graph, card), as the
# API loads it.
ARTIFACT_PATH = "bankchurn_model"


class RegistryError(BankchurnError):
    """The registry could not do what was asked; the message says what and where."""


def _flatten(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(f"{prefix}.{key}" if prefix else str(key), inner))
        return flat
    return {prefix: value}


def _run_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    holdout, cv = metrics["holdout"], metrics["cross_validation"]
    logged = {
        f"holdout_{name}": float(holdout[name])
        for name in ("roc_auc", "pr_auc", "brier", "f1", "precision", "recall")
    }
    logged.update({f"cv_{name}_mean": float(cv[name]["mean"]) for name in ("roc_auc", "pr_auc")})
    return logged


def _champion_score(client: MlflowClient, metric: str) -> tuple[str | None, float | None]:
    try:
        champion = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS)
    except MlflowException:
        return None, None  # no registered model or no champion yet
    if champion.run_id is None:
        raise RegistryError(f"champion version {champion.version} has no run to compare with")
    run = client.get_run(champion.run_id)
    return str(champion.version), run.data.metrics.get(f"holdout_{metric}")


def local_artifact_root(tracking_uri: str) -> str | None:
    """Where runs of a local SQLite store keep their artifacts: ``mlruns/`` beside the database.

    MLflow's own default for a database store is ``./mlruns`` in the process's working
    directory, so every run from another folder (a test from the repository root) left an
    ``mlruns/`` there. None for other stores: a tracking server chooses its own.
    """
    path = tracking_uri.removeprefix("sqlite:///")
    if path == tracking_uri or not path or path == ":memory:":
        return None
    return (Path(path).resolve().parent / "mlruns").as_uri()


def _ensure_experiment(client: MlflowClient, tracking_uri: str) -> None:
    if client.get_experiment_by_name(EXPERIMENT) is None:
        client.create_experiment(EXPERIMENT, artifact_location=local_artifact_root(tracking_uri))


def log_and_register(
    tracking_uri: str, result: TrainResult, card: dict[str, Any], model_dir: Path
) -> dict[str, Any]:
    """Log the run, register the model, apply the champion rule; return the card's mlflow part.

    ``model_dir`` must already hold the artifacts described by ``card``; its card is
    rewritten with the MLflow provenance before being logged.
    """
    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    _ensure_experiment(client, tracking_uri)
    mlflow.set_experiment(EXPERIMENT)
    metric = card["config"]["champion_metric"]
    champion_version, champion_score = _champion_score(client, metric)
    score = float(card["metrics"]["holdout"][metric])

    with mlflow.start_run(run_name=card["model_version"]) as run:
        mlflow.log_params(_flatten("", card["config"]))
        mlflow.log_metrics(_run_metrics(card["metrics"]))
        mlflow.set_tags(
            {"model_version": card["model_version"], "data_sha256": card["training_data"]["sha256"]}
        )
        # The standard MLflow flavour too, so `mlflow models serve` and other tools work.
        # cloudpickle: the default (skops) refuses HistGradientBoosting's tree type.
        logged = mlflow.sklearn.log_model(
            result.pipeline,
            name="model",
            serialization_format="cloudpickle",
            signature=infer_signature(result.holdout_matrix[:5], result.holdout_scores[:5]),
            pip_requirements=[
                f"{lib}=={card['versions'][lib]}" for lib in ("scikit-learn", "numpy", "joblib")
            ],
        )
        registered = mlflow.register_model(logged.model_uri, REGISTERED_MODEL)
        promoted = champion_score is None or score > champion_score
        if promoted:
            client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION_ALIAS, registered.version)
        decision = {
            "metric": f"holdout_{metric}",
            "score": score,
            "previous_champion_version": champion_version,
            "previous_champion_score": champion_score,
            "promoted": promoted,
            "rule": "promote only if strictly better than the current champion",
        }
        client.set_model_version_tag(
            REGISTERED_MODEL,
            registered.version,
            "champion_decision",
            "promoted" if promoted else "kept as challenger",
        )
        provenance = {
            "run_id": run.info.run_id,
            "experiment": EXPERIMENT,
            "registered_model": REGISTERED_MODEL,
            "registered_version": str(registered.version),
            "champion_challenger": decision,
        }
        write_card({**card, "mlflow": provenance}, model_dir)
        mlflow.log_artifacts(str(model_dir), artifact_path=ARTIFACT_PATH)
    return provenance


def resolve(client: MlflowClient, model_uri: str) -> Any:
    """The ModelVersion behind ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``."""
    if not model_uri.startswith("models:/"):
        raise RegistryError(f"{model_uri!r} is not a registry URI like models:/bankchurn@champion")
    reference = model_uri.removeprefix("models:/")
    try:
        if "@" in reference:
            name, alias = reference.split("@", 1)
            return client.get_model_version_by_alias(name, alias)
        name, _, number = reference.partition("/")
        return client.get_model_version(name, number)
    except MlflowException as error:
        raise RegistryError(f"{model_uri} not found in the registry: {error.message}") from None


def export_model(tracking_uri: str, model_uri: str, out_dir: Path) -> dict[str, Any]:
    """Download a registered version into ``out_dir`` as a folder the API can load.

    The files are verified (sha256 and library versions, as the API would) in a
    temporary folder first, so a bad download never replaces a good model.
    """
    client = MlflowClient(tracking_uri)
    version = resolve(client, model_uri)
    with tempfile.TemporaryDirectory() as scratch:
        downloaded = Path(
            mlflow.artifacts.download_artifacts(
                run_id=version.run_id,
                artifact_path=ARTIFACT_PATH,
                dst_path=scratch,
                tracking_uri=tracking_uri,
            )
        )
        card = read_card(downloaded)
        # Every artifact the card vouches for: the pickle and, when exported, model.onnx.
        # The verified bytes are what is written out: the files are not read twice.
        names = list(card["artifacts"])
        verified = {name: read_verified(downloaded, card, name) for name in names}
        check_versions(card)
        card["mlflow"] = {
            **card.get("mlflow", {}),
            "run_id": version.run_id,
            "registered_model": version.name,
            "registered_version": str(version.version),
            "exported_from": model_uri,
            "aliases": sorted(version.aliases),
        }
        write_card(card, downloaded)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, content in verified.items():
            (out_dir / name).write_bytes(content)
        for name in (CARD_FILE, *(p.name for p in downloaded.glob("*.md"))):
            shutil.copy2(downloaded / name, out_dir / name)
    return card
