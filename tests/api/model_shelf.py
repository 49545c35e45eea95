"""Model folders for reload tests: versions of the committed model, published by symlink.

Each version is a copy of the committed model whose card names another
``model_version``. The card is not covered by any checksum (it holds the artifacts'
sha256s), so the copy passes every check start-up makes, exactly as a retrained model
would; ``tamper=True`` appends bytes to both artifacts, so the card no longer vouches
for them. ``publish`` repoints the ``champion`` symlink in one atomic rename, as the
compose train job does (infra/train/job.py).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bankchurn.artifacts import CARD_FILE, MODEL_FILE, ONNX_FILE

CardEdit = Callable[[dict[str, Any]], None]


class ModelShelf:
    """``root/versions/<name>`` folders and the ``root/champion`` link that names one."""

    def __init__(self, source: Path, root: Path) -> None:
        self.source = source
        self.versions = root / "versions"
        self.link = root / "champion"
        self.versions.mkdir(parents=True)

    def add(self, name: str, *, tamper: bool = False, edit: CardEdit | None = None) -> Path:
        folder = Path(shutil.copytree(self.source, self.versions / name))
        card = json.loads((folder / CARD_FILE).read_text())
        card["model_version"] = name
        if edit is not None:
            edit(card)
        (folder / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
        if tamper:
            for artifact in (MODEL_FILE, ONNX_FILE):
                with (folder / artifact).open("ab") as stream:
                    stream.write(b"tampered")
        return folder

    def publish(self, name: str) -> None:
        temporary = self.link.with_name(f".{self.link.name}.new")
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(Path("versions") / name)
        os.replace(temporary, self.link)
