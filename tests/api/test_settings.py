"""Settings: BANKCHURN_* variables, safe defaults, unsafe values refused by name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings, SettingsError, get_settings
from tooling.paths import REPO_ROOT


def test_defaults_are_safe():
    settings = get_settings()

    assert settings.model_dir == Path("models")  # relative to the working directory
    assert settings.backend == "sklearn"
    assert settings.inference_threads == 1
    assert settings.max_batch == 1_000
    assert settings.max_body_bytes == 1_048_576
    assert settings.threshold is None
    assert (settings.log_level, settings.log_format) == ("INFO", "json")
    assert settings.cors_origins == ()
    assert settings.log_features is False


def test_settings_are_read_from_bankchurn_variables(monkeypatch, tmp_path):
    variables = {
        "BANKCHURN_MODEL_DIR": str(tmp_path),
        "BANKCHURN_INFERENCE_THREADS": "2",
        "BANKCHURN_MAX_BATCH": "50",
        "BANKCHURN_MAX_BODY_BYTES": "65536",
        "BANKCHURN_THRESHOLD": "0.35",
        "BANKCHURN_LOG_LEVEL": "debug",
        "BANKCHURN_LOG_FORMAT": "text",
        "BANKCHURN_CORS_ORIGINS": "https://a.example, http://localhost:3000",
        "BANKCHURN_LOG_FEATURES": "true",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    settings = get_settings()

    assert settings.model_dir == tmp_path
    assert (settings.inference_threads, settings.max_batch) == (2, 50)
    assert (settings.max_body_bytes, settings.threshold) == (65_536, 0.35)
    assert (settings.log_level, settings.log_format) == ("DEBUG", "text")
    assert settings.cors_origins == ("https://a.example", "http://localhost:3000")
    assert settings.log_features is True


def test_settings_are_read_once_and_cached(monkeypatch):
    first = get_settings()
    monkeypatch.setenv("BANKCHURN_MAX_BATCH", "7")

    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().max_batch == 7


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("BANKCHURN_THRESHOLD", "1.5", "less than 1"),
        ("BANKCHURN_THRESHOLD", "0", "greater than 0"),
        ("BANKCHURN_MAX_BATCH", "0", "greater than or equal to 1"),
        ("BANKCHURN_MAX_BODY_BYTES", "10", "greater than or equal to 1024"),
        ("BANKCHURN_INFERENCE_THREADS", "0", "greater than or equal to 1"),
        ("BANKCHURN_BACKEND", "tensorflow", "Input should be"),
        ("BANKCHURN_LOG_FORMAT", "xml", "'json' or 'text'"),
        ("BANKCHURN_LOG_LEVEL", "CHATTY", "Input should be"),
        ("BANKCHURN_CORS_ORIGINS", "https://ok.example,https://bad.example/path", "not an origin"),
        ("BANKCHURN_LOG_FEATURES", "perhaps", "valid boolean"),
    ],
)
def test_unsafe_values_are_refused_naming_the_variable(monkeypatch, variable, value, complaint):
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as refused:
        get_settings()

    assert f"{variable}={value!r}" in str(refused.value)
    assert complaint in str(refused.value)


def test_settings_are_frozen():
    settings = Settings()

    with pytest.raises(ValidationError, match="frozen"):
        settings.max_batch = 5  # type: ignore[misc]


def test_unknown_setting_names_are_refused():
    with pytest.raises(ValidationError, match="max_batchh"):
        Settings(max_batchh=5)  # type: ignore[call-arg]


def test_server_refuses_to_start_with_an_unsafe_value(tmp_path):
    started = subprocess.run(
        [sys.executable, "-m", "uvicorn", "app.fastapi_app:app", "--port", "0"],
        cwd=REPO_ROOT,
        env={"BANKCHURN_MAX_BATCH": "0", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert started.returncode != 0
    assert "BANKCHURN_MAX_BATCH='0': Input should be greater than or equal to 1" in started.stderr
