"""docker-compose.api-keys.yml: the opt-in way to give the stack's API its key digests.

The default stack stays keyless; with the override, Compose mounts the digests file as a
secret and the API reads it (BANKCHURN_API_KEY_HASHES_FILE). Resolved by ``docker compose
config``, as ``up`` would resolve it; the file's contents are then what app.settings parses.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from app.settings import Settings
from tests.compose.composetools import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    REPO_ROOT,
    TEST_ENV,
    compose_config,
)

OVERRIDE = REPO_ROOT / "docker-compose.api-keys.yml"
MOUNTED_AT = "/run/secrets/bankchurn_api_key_hashes"


def _config(tmp_path: Path, *files: Path, **env: str) -> Any:
    return compose_config(tmp_path, {**TEST_ENV, **env}, *files)


def test_the_default_stack_asks_for_no_key(tmp_path):
    result = _config(tmp_path, COMPOSE_FILE)
    assert result.returncode == 0, result.stderr
    api = yaml.safe_load(result.stdout)["services"]["api"]
    assert not [name for name in api["environment"] if name.startswith("BANKCHURN_API_KEY")]
    assert "secrets" not in api


def test_the_override_mounts_the_digests_file_and_points_the_api_at_it(tmp_path):
    digests = tmp_path / "api-key-hashes"
    digests.write_text(hashlib.sha256(b"a key").hexdigest() + "\n")

    result = _config(tmp_path, COMPOSE_FILE, OVERRIDE, BANKCHURN_API_KEY_HASHES_PATH=str(digests))

    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    api = resolved["services"]["api"]
    assert api["environment"]["BANKCHURN_API_KEY_HASHES_FILE"] == MOUNTED_AT
    assert [s["target"] for s in api["secrets"]] == [MOUNTED_AT]
    assert resolved["secrets"]["bankchurn_api_key_hashes"]["file"] == str(digests)
    # No healthcheck of its own: the image's probes /ready, which stays open with keys on.
    assert "healthcheck" not in api
    assert Settings(api_key_hashes_file=digests).accepted_key_hashes() == {
        hashlib.sha256(b"a key").hexdigest()
    }


def test_the_override_refuses_to_start_without_the_digests_path(tmp_path):
    result = _config(tmp_path, COMPOSE_FILE, OVERRIDE)
    assert result.returncode != 0
    assert "BANKCHURN_API_KEY_HASHES_PATH" in result.stderr


def test_the_override_holds_no_key_and_its_variable_is_documented():
    text = OVERRIDE.read_text()
    assert not re.search(r"BANKCHURN_API_KEY_HASHES:", text)  # digests via the file only
    assert "# BANKCHURN_API_KEY_HASHES_PATH=" in ENV_EXAMPLE.read_text()
