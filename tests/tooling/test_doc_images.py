"""Every picture a committed document shows exists in the repository (they are generated:
models/plots by `bankchurn report plots`, docs/img by the benchmarks and `make acceptance`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tooling.paths import REPO_ROOT

IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
DOCUMENTS = sorted(
    [
        REPO_ROOT / "README.md",
        REPO_ROOT / "models" / "MODEL_CARD.md",
        *(REPO_ROOT / "docs").glob("*.md"),
    ]
)
# The documents the generators embed pictures in: a parser that finds none here is broken.
ILLUSTRATED = {"MODEL_CARD.md": 4, "acceptance.md": 4, "images.md": 1, "benchmarks.md": 1}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_image_a_document_shows_exists(document: Path) -> None:
    links = IMAGE_LINK.findall(document.read_text())
    missing = [link for link in links if not (document.parent / link).is_file()]
    assert missing == [], f"{document.relative_to(REPO_ROOT)} links missing images {missing}"
    assert len(links) >= ILLUSTRATED.get(document.name, 0)
