"""Where things are in the repository, named once."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = REPO_ROOT / "models"
DOCS = REPO_ROOT / "docs"
BENCHMARKS_DIR = REPO_ROOT / "benchmarks"
# The project's image names: the one file scripts `source` and Python reads (tooling.images_env).
IMAGES_ENV = REPO_ROOT / "scripts" / "images" / "images.env"
# The build args scripts/images/build.sh used last (tests and benchmarks rebuild with them).
BUILD_ARGS_FILE = REPO_ROOT / ".cache" / "images" / "build-args"
VENV_BIN = REPO_ROOT / ".venv" / "bin"
TOOLS_BIN = REPO_ROOT / ".venv-tools" / "bin"
