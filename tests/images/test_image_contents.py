"""What no image may contain: repository metadata, tests, data, secrets, notebooks, caches."""

from __future__ import annotations

import re

import pytest

from tests.images.imagetools import IMAGES

pytestmark = pytest.mark.docker
FORBIDDEN = {
    "git metadata": re.compile(r"(^|/)\.git(/|$)"),
    "the project's tests": re.compile(r"^/app/(src/)?tests(/|$)"),
    # Anywhere but inside installed packages (scikit-learn ships iris.csv, numpy test tables):
    # those are libraries' own files, not data this project could leak.
    "CSV data": re.compile(r"^(?!.*/(site|dist)-packages/).*\.csv$"),
    "data folder": re.compile(r"^/app/data(/|$)"),
    ".env secrets": re.compile(r"(^|/)\.env(\.[^/]*)?$"),
    "notebooks": re.compile(r"\.ipynb$|(^|/)\.ipynb_checkpoints(/|$)"),
    "pip cache": re.compile(r"^/root/\.cache/pip(/|$)|^/home/[^/]+/\.cache/pip(/|$)"),
    "the dev virtualenv": re.compile(r"^/app/\.venv(/|$)"),
    "MLflow runs": re.compile(r"^/app/mlruns(/|$)"),
    "tool caches": re.compile(r"(^|/)\.(pytest_cache|mypy_cache|ruff_cache|hypothesis)(/|$)"),
    "host bytecode": re.compile(r"^/app/.*\.cpython-311\.pyc$"),
    # The model report's pictures and the library that draws them are training-side only.
    "model report plots": re.compile(r"^/app/models/(plots(/|$)|.*\.png$)"),
    "matplotlib": re.compile(r"/(site|dist)-packages/(matplotlib|mpl_toolkits)(/|$)"),
}


@pytest.mark.parametrize("level", list(IMAGES))
@pytest.mark.parametrize("what", list(FORBIDDEN))
def test_image_contains_none_of(filesystems: dict[str, list[str]], level: str, what: str):
    found = [path for path in filesystems[level] if FORBIDDEN[what].search(path)]

    assert found == [], f"{IMAGES[level]} contains {what}: {found[:10]}"


# What each image serves: levels 1-2 the scikit-learn pipeline, production the ONNX export alone.
SERVED_MODEL = {"level1": "model.joblib", "level2": "model.joblib", "production": "model.onnx"}


@pytest.mark.parametrize("level", list(IMAGES))
def test_image_contains_the_service_and_the_model(filesystems: dict[str, list[str]], level: str):
    paths = set(filesystems[level])

    assert {f"/app/models/{SERVED_MODEL[level]}", "/app/models/model_card.json"} <= paths
    assert any(p.endswith("/app/fastapi_app.py") for p in paths)
