"""Model artifacts on disk: write them with a card, and load them only once verified.

A joblib file is a pickle, and a pickle is code. ``load_pipeline`` therefore reads the
card first, reads the file's bytes once, checks their sha256 and the library versions
they were written with, and only then unpickles those very bytes from memory: opening
the path a second time would let a file or symlink swapped in between run unverified
(a race measured at 37 of 300 loads before this). ``read_verified`` is the only way an
artifact's content leaves this module, for every loader. Every refusal is a
``ModelLoadError`` with a machine-readable ``reason`` (used by the API's /ready) and a
message that says what to do.

This module is on both serving paths. The ONNX one has neither scikit-learn nor joblib
installed, so joblib is imported only where a pickle is written or read, and library
versions are looked up only when a pickle is checked.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
from collections.abc import Mapping
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from bankchurn.card_schema import card_problems
from bankchurn.errors import BankchurnError

MODEL_FILE = "model.joblib"
# The pipeline as an ONNX graph, written by bankchurn.onnx_export when it passes parity.
ONNX_FILE = "model.onnx"
CARD_FILE = "model_card.json"
SUMMARY_FILE = "MODEL_CARD.md"
CARD_SCHEMA_VERSION = 1

# Which installed versions must match the ones that wrote the pickle, and how closely.
# scikit-learn does not promise that an estimator pickled by one release unpickles
# correctly in another (it warns InconsistentVersionWarning), so it must match exactly;
# numpy keeps its array pickle format within a minor release. The lock files pin one
# version of each for every supported Python, so the committed model loads everywhere.
VERSION_POLICY: dict[str, str] = {"scikit-learn": "exact", "numpy": "minor"}


class ModelLoadError(BankchurnError):
    """The model cannot be served; ``reason`` is a stable code, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def runtime_versions() -> dict[str, str]:
    """The interpreter and libraries that matter for (un)pickling the model."""
    return {
        "python": platform.python_version(),
        "scikit-learn": installed_version("scikit-learn"),
        "numpy": installed_version("numpy"),
        "joblib": installed_version("joblib"),
    }


def write_artifacts(
    pipeline: Any,
    card: dict[str, Any],
    out_dir: Path,
    extra_files: Mapping[str, bytes] | None = None,
) -> dict[str, Any]:
    """Write the pipeline and ``extra_files`` (name -> content), then the card that
    vouches for all of them (sha256 and size of each); return the final card."""
    import joblib

    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, out_dir / MODEL_FILE)
    for name, content in (extra_files or {}).items():
        (out_dir / name).write_bytes(content)
    names = [MODEL_FILE, *(extra_files or {})]
    card = {
        **card,
        "card_schema_version": CARD_SCHEMA_VERSION,
        "versions": runtime_versions(),
        "version_policy": VERSION_POLICY,
        "artifacts": {
            **card.get("artifacts", {}),
            **{
                name: {
                    "sha256": sha256_of(out_dir / name),
                    "bytes": (out_dir / name).stat().st_size,
                }
                for name in names
            },
        },
    }
    write_card(card, out_dir)
    return card


def write_card(card: dict[str, Any], out_dir: Path) -> None:
    (out_dir / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")


def read_card(model_dir: Path) -> dict[str, Any]:
    card_path = model_dir / CARD_FILE
    if not card_path.is_file():
        raise ModelLoadError(
            "card_missing",
            f"no model card at {card_path}; train a model into {model_dir} "
            "(`bankchurn train`) or point BANKCHURN_MODEL_DIR at a model folder",
        )
    try:
        card: Any = json.loads(card_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelLoadError("card_invalid", f"{card_path} is not valid JSON: {error}") from None
    if not isinstance(card, dict) or card.get("card_schema_version") != CARD_SCHEMA_VERSION:
        raise ModelLoadError(
            "card_invalid",
            f"{card_path} is not a bankchurn model card (card_schema_version "
            f"{CARD_SCHEMA_VERSION} expected); retrain with this release",
        )
    # The one place a card is parsed: past this, its fields have the types loaders expect.
    problems = card_problems(card, tuple(VERSION_POLICY))
    if problems:
        raise ModelLoadError(
            "card_invalid", f"{card_path} is not a valid model card ({problems}); retrain"
        )
    return card


def read_verified(model_dir: Path, card: dict[str, Any], name: str) -> bytes:
    """The content of artifact ``name``, read once and checked against the card's sha256.

    The bytes that were checked are the bytes returned, so the file cannot be swapped
    between the check and the load: callers use these bytes, never the path again.
    """
    path = _listed_artifact(model_dir, card, name)
    content = path.read_bytes()
    _check_digest(path, hashlib.sha256(content).hexdigest(), card["artifacts"][name]["sha256"])
    return content


def _listed_artifact(model_dir: Path, card: dict[str, Any], name: str) -> Path:
    entry = card["artifacts"].get(name)
    if entry is None:
        raise ModelLoadError("card_invalid", f"the model card lists no sha256 for {name}")
    path = model_dir / name
    if not path.is_file():
        raise ModelLoadError("artifact_missing", f"{path} is missing; the card expects it")
    return path


def _check_digest(path: Path, actual: str, expected: str) -> None:
    if actual != expected:
        raise ModelLoadError(
            "checksum_mismatch",
            f"{path} has sha256 {actual}, but the model card says {expected}: the file "
            "was modified or replaced after training. Refusing to load it; restore the "
            "original artifact or retrain.",
        )


def check_versions(card: dict[str, Any]) -> None:
    """Refuse a pickle written by library versions the policy says may not load it."""
    trained = card["versions"]
    running = runtime_versions()
    for library, rule in VERSION_POLICY.items():
        want, have = trained[library], running[library]
        parts = 3 if rule == "exact" else 2
        if want.split(".")[:parts] != have.split(".")[:parts]:
            raise ModelLoadError(
                "version_mismatch",
                f"the model was trained with {library} {want}, this environment has {have} "
                f"(policy: {rule} match). Install the locked requirements "
                "(requirements.txt) or retrain the model in this environment.",
            )


def load_pipeline(model_dir: Path) -> tuple[Any, dict[str, Any]]:
    """Verify, then unpickle the fitted pipeline from the verified bytes; return it with
    its card. Start-up, the CLI and hot reload all load through here."""
    import joblib

    card = read_card(model_dir)
    content = read_verified(model_dir, card, MODEL_FILE)
    check_versions(card)
    return joblib.load(io.BytesIO(content)), card
