"""The model card's shape, checked once where a card is read, before anything trusts it.

The loaders index into the card (``card["artifacts"][name]["sha256"]``,
``card["onnx"]["input"]["columns"]``, ``card["threshold"]["value"]``); a card of the
wrong shape must be refused as ``card_invalid`` with the field named, never fail later
with an ``AttributeError``. Only what the package itself relies on is described here,
strictly (no "1" for 1); every other field is allowed and left to its consumer (the API
checks the rest against ``ModelCardResponse``). Cards written by earlier releases have
all of these fields, so they still load.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SHA256_PATTERN = r"^[0-9a-f]{64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _Artifact(_Strict):
    sha256: str = Field(pattern=SHA256_PATTERN)
    bytes: int = Field(ge=0)


class _Threshold(_Strict):
    value: float = Field(ge=0.0, le=1.0)


class _OnnxInput(_Strict):
    name: str
    columns: int = Field(ge=1)


class _Onnx(_Strict):
    """The ONNX section: the export's facts when there is one, else why there is none."""

    file: str | None
    reason: str | None = None
    input: _OnnxInput | None = None
    output: str | None = None
    onnxruntime: str | None = None

    @model_validator(mode="after")
    def _complete_when_exported(self) -> _Onnx:
        missing = [
            name
            for name in ("input", "output", "onnxruntime")
            if self.file is not None and getattr(self, name) is None
        ]
        if missing:
            raise ValueError(f"an ONNX export needs {', '.join(missing)}")
        return self


class CardShape(_Strict):
    """The fields of ``model_card.json`` the package's loaders and CLI read."""

    card_schema_version: int
    artifacts: dict[str, _Artifact]
    versions: dict[str, str]
    threshold: _Threshold
    onnx: _Onnx | None = None


def card_problems(document: Any, required_versions: Sequence[str]) -> str | None:
    """What is misshapen in ``document``, each problem naming its field; None if nothing."""
    try:
        card = CardShape.model_validate(document)
    except ValidationError as error:
        return "; ".join(
            f"{'.'.join(map(str, item['loc'])) or '(card)'}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
    missing = [name for name in required_versions if name not in card.versions]
    if missing:
        return f"versions.{missing[0]}: the version of {missing[0]} that wrote it is missing"
    return None
