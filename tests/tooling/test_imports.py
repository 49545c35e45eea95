"""The repository's Python imports its modules as modules: nothing loads a file by its path.

Tests import the tooling package, the benchmarks, infra/train and each other as packages
(pytest's ``pythonpath`` is the repository root), so what they exercise is what runs.
"""

from __future__ import annotations

import re

from tooling.paths import REPO_ROOT

# The ways to run or import a file by path instead of by module name.
BY_PATH = re.compile(
    r"spec_from_file_location|SourceFileLoader|run_path\(|sys\.path\.(insert|append)\("
)
FOLDERS = ("app", "src", "tooling", "benchmarks", "tests", "infra", "docker", "scripts")


def test_no_module_is_loaded_by_file_path() -> None:
    this = REPO_ROOT / "tests" / "tooling" / "test_imports.py"
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
        for folder in FOLDERS
        for path in sorted((REPO_ROOT / folder).rglob("*.py"))
        if path != this
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if BY_PATH.search(line)
    ]
    assert offenders == []


def test_no_test_imports_from_a_conftest() -> None:
    """conftest.py files hold fixtures; what tests share is imported from a module of its own
    (tooling.paths, tooling.net, tests.api.uvicorn_server, ...)."""
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for path in sorted((REPO_ROOT / "tests").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.match(r"from tests\.(\w+\.)*conftest import", line)
    ]
    assert offenders == []
