"""tooling.images_env: the one reader of scripts/images/images.env (also `source`d by bash)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tooling.images_env import image, image_names, key_values
from tooling.paths import IMAGES_ENV


def test_key_values_skips_comments_and_blank_lines_and_keeps_equals_in_values(
    tmp_path: Path,
) -> None:
    path = tmp_path / "names.env"
    path.write_text("# a comment=with equals\n\nA=one\n  B = two \nURL=http://x/?a=b\nnot a pair\n")

    assert key_values(path) == {"A": "one", "B": "two", "URL": "http://x/?a=b"}


def test_the_image_names_are_what_bash_sees_when_it_sources_the_file() -> None:
    sourced = subprocess.run(
        ["bash", "-c", f'set -a && source "{IMAGES_ENV}" && env'],
        capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"},
    ).stdout  # fmt: skip
    from_bash = dict(
        line.split("=", 1) for line in sourced.splitlines() if line.startswith("BANKCHURN_IMAGE_")
    )

    ours = {f"BANKCHURN_IMAGE_{level.upper()}": name for level, name in image_names().items()}
    assert ours == from_bash
    assert set(image_names()) == {"level1", "level2", "production"}


def test_one_image_by_level_and_a_clear_error_for_an_unknown_one() -> None:
    assert image("production") == key_values(IMAGES_ENV)["BANKCHURN_IMAGE_PRODUCTION"]
    with pytest.raises(KeyError, match="names no BANKCHURN_IMAGE_LEVEL9"):
        image("level9")
