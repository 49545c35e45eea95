"""docker-compose.yml: valid, hardened, pinned, and wired the way docs/compose.md says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.compose.composetools import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    REPO_ROOT,
    TEST_ENV,
    compose_config,
)
from tooling.images_env import image

ONE_SHOT_JOBS = {"train"}  # exit when done: nothing to probe; `api` waits for their exit code
OWN_PROBE = {"api"}  # its image's HEALTHCHECK (docker/healthcheck.py) is the probe, not a copy
# ${VARIABLE:-registry/name:tag}: a pinned default anyone can override without editing the file.
PINNED_IMAGE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:-[a-z0-9./_-]+:[A-Za-z0-9._-]+\}$")


def test_compose_config_validates_with_the_required_variables(tmp_path: Path) -> None:
    result = compose_config(tmp_path, TEST_ENV)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) == {"mlflow", "train", "api", "prometheus", "grafana"}
    grafana_env = resolved["services"]["grafana"]["environment"]
    assert grafana_env["GF_SECURITY_ADMIN_PASSWORD"] == TEST_ENV["GRAFANA_ADMIN_PASSWORD"]


@pytest.mark.parametrize("env", [{}, {"GRAFANA_ADMIN_PASSWORD": ""}], ids=["unset", "empty"])
def test_compose_refuses_to_start_without_the_grafana_password(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """A copied .env.example, password line still empty, is refused with the fix named."""
    result = compose_config(tmp_path, env)
    assert result.returncode != 0
    assert "GRAFANA_ADMIN_PASSWORD" in result.stderr


def test_no_literal_secret_in_the_compose_file(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|KEY", key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?.+\}", str(value)), (
                    f"{name}.{key} must come from the environment as ${{VAR:?message}}"
                )


def test_every_image_is_pinned_and_overridable(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        # The api tag follows the level: test_one_variable_picks_the_api_level.
        if name == "api":
            assert image == "${BANKCHURN_API_IMAGE:-bankchurn:${BANKCHURN_API_LEVEL:-production}}"
            continue
        assert PINNED_IMAGE.match(image), f"{name}: {image!r} is not ${{VAR:-name:tag}}"
        assert not image.endswith(":latest}"), f"{name}: pin a version, not latest"


def resolved_api(tmp_path: Path, **env: str) -> dict[str, Any]:
    result = compose_config(tmp_path, {**TEST_ENV, **env})
    assert result.returncode == 0, result.stderr
    api: dict[str, Any] = yaml.safe_load(result.stdout)["services"]["api"]
    return api


@pytest.mark.parametrize("level", ["production", "level2", "level1"])
def test_one_variable_picks_the_api_level(tmp_path: Path, level: str) -> None:
    """BANKCHURN_API_LEVEL chooses the Dockerfile compose builds and the tag it runs: the one
    `make images` gives that level (images.env), so either build serves the other's image."""
    env = {} if level == "production" else {"BANKCHURN_API_LEVEL": level}
    api = resolved_api(tmp_path, **env)
    assert api["image"] == image(level)
    assert api["build"]["dockerfile"] == f"docker/Dockerfile.{level}"
    assert (REPO_ROOT / api["build"]["dockerfile"]).is_file()


def test_the_api_tag_can_be_renamed_without_changing_the_level(tmp_path: Path) -> None:
    api = resolved_api(tmp_path, BANKCHURN_API_IMAGE="mirror.example/bankchurn:production")
    assert api["image"] == "mirror.example/bankchurn:production"
    assert api["build"]["dockerfile"] == "docker/Dockerfile.production"


BUILD_ARGS = {
    "PYTHON_IMAGE", "PYTHON_SLIM_IMAGE", "DEBIAN_SLIM_IMAGE", "DISTROLESS_IMAGE",
    "PIP_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX",
}  # fmt: skip
DOCKERFILES = {
    "api": [f"docker/Dockerfile.{level}" for level in ("production", "level2", "level1")],
    "train": ["docker/Dockerfile.train"],
}


@pytest.mark.parametrize("name", ["api", "train"])
def test_the_projects_images_are_built_never_pulled(compose: dict[str, Any], name: str) -> None:
    """No registry holds bankchurn's images: a missing tag is built from the repository
    (`never` skips the pull; with a build section compose then builds), an existing one used."""
    service = compose["services"][name]
    assert service["pull_policy"] == "never"
    assert service["build"]["context"] == "."
    # Every base image and package-index ARG of the Dockerfiles can be given (air-gapped, mirrors).
    for dockerfile in DOCKERFILES[name]:
        declared = set(re.findall(r"^ARG ([A-Z_]+)", (REPO_ROOT / dockerfile).read_text(), re.M))
        assert declared & BUILD_ARGS <= set(service["build"]["args"]), dockerfile


def test_build_args_are_passed_only_when_set(tmp_path: Path) -> None:
    """Unset, the Dockerfiles' upstream defaults apply (an empty PIP_NO_INDEX would break pip);
    set in .env, they reach the build, as air-gapped builds need."""
    assert "args" not in resolved_api(tmp_path)["build"]
    given = resolved_api(tmp_path, PIP_NO_INDEX="1", BANKCHURN_BUILD_NETWORK="host")
    assert given["build"]["args"] == {"PIP_NO_INDEX": "1"}
    assert given["build"]["network"] == "host"


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name in ONE_SHOT_JOBS:
            assert "healthcheck" not in service
            assert service["restart"] == "no"
            continue
        if name in OWN_PROBE:  # test_the_api_is_probed_by_its_images_own_healthcheck
            assert "healthcheck" not in service, f"{name}: its image's HEALTHCHECK is the probe"
            assert service["restart"] == "unless-stopped"
            continue
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        # Exec form: no shell is assumed (the API image is distroless, MLflow's has no curl).
        assert check["test"][0] == "CMD", f"{name}: healthcheck must be exec form"
        assert service["restart"] == "unless-stopped"


@pytest.mark.parametrize("level", ["level2", "production"])
def test_the_api_is_probed_by_its_images_own_healthcheck(level: str) -> None:
    """Compose sets no healthcheck for the api, so the image's applies (Docker inherits it):
    docker/healthcheck.py, GET /ready in exec form, the one probe for `docker run` and compose.
    Level 1 has none, its labelled anti-pattern. That the container turns healthy under
    compose: tests/compose/test_stack.py."""
    docker = REPO_ROOT / "docker"
    dockerfile = (docker / f"Dockerfile.{level}").read_text()
    assert "COPY docker/healthcheck.py" in dockerfile
    probe = re.search(r"^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$", dockerfile, re.M)
    assert probe, f"Dockerfile.{level} has no exec-form HEALTHCHECK"
    assert json.loads(probe.group(1))[-1] == "/app/healthcheck.py"
    assert '"http://127.0.0.1:8000/ready"' in (docker / "healthcheck.py").read_text()
    assert "ANTI-PATTERN: no HEALTHCHECK" in (docker / "Dockerfile.level1").read_text()


def test_start_order_uses_health_and_completion(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["train"]["depends_on"] == {"mlflow": {"condition": "service_healthy"}}
    assert services["api"]["depends_on"] == {
        "train": {"condition": "service_completed_successfully"}
    }
    assert services["grafana"]["depends_on"] == {"prometheus": {"condition": "service_healthy"}}


def test_api_runs_hardened_with_limits(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    assert api["read_only"] is True
    assert api["user"].split(":")[0] not in {"0", "root"}
    assert any(mount.startswith("/tmp") for mount in api["tmpfs"])
    assert api["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in api["security_opt"]
    limits = api["deploy"]["resources"]["limits"]
    assert limits["cpus"]
    assert limits["memory"]
    # Under deploy.resources.limits, not pids_limit: Compose v2 refuses the file when both are set.
    assert limits["pids"] == 128
    assert "pids_limit" not in api
    # The champion exported by `train`, read-only; the baked-in model only when configured.
    assert "models:/models:ro" in api["volumes"]
    model_dir = api["environment"]["BANKCHURN_MODEL_DIR"]
    assert model_dir == "${BANKCHURN_API_MODEL_DIR:-/models/champion}"
    # A new champion is served within 5 s, without a restart (app/model_reload.py).
    assert api["environment"]["BANKCHURN_MODEL_POLL_SECONDS"] == "5"
    # One worker per container: multiprocess mode drops the process_* metrics the dashboard shows.
    assert api["environment"]["WEB_CONCURRENCY"] == "1"


@pytest.mark.parametrize("name", ["train", "api", "prometheus"])
def test_services_that_can_run_read_only_do(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert service["read_only"] is True
    assert service["user"].split(":")[0] not in {"0", "root"}


def test_ports_are_published_on_loopback_by_default(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert re.match(r"^\$\{[A-Z_]+_BIND:-127\.0\.0\.1\}:", port), f"{name}: {port}"


def test_mlflow_serves_artifacts_and_accepts_its_service_name(compose: dict[str, Any]) -> None:
    mlflow = compose["services"]["mlflow"]
    command = " ".join(mlflow["command"])
    assert "--serve-artifacts" in command
    assert "--artifacts-destination=/mlflow/artifacts" in command
    assert "--backend-store-uri=sqlite:////mlflow/db/" in command
    allowed = re.search(r"--allowed-hosts=(\S+)", command)
    assert allowed
    assert "mlflow:5000" in allowed.group(1).split(",")
    assert {"mlflow-db:/mlflow/db", "mlflow-artifacts:/mlflow/artifacts"} <= set(mlflow["volumes"])
    train_env = compose["services"]["train"]["environment"]
    assert train_env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"


def test_env_example_documents_every_variable_the_compose_file_reads() -> None:
    code = re.sub(r"#.*", "", COMPOSE_FILE.read_text())
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", code))
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.M))
    bind_variables = {name for name in used if name.endswith("_BIND")}  # documented as a group
    assert used - documented - bind_variables == set()
    assert "GRAFANA_ADMIN_PASSWORD=\n" in ENV_EXAMPLE.read_text(), "no default password"


def test_env_file_is_git_ignored() -> None:
    assert ".env" in (REPO_ROOT / ".gitignore").read_text().splitlines()
