"""The Makefile as a newcomer meets it: `make help` and the first, slow `make setup`."""

from __future__ import annotations

import subprocess

from tooling.paths import REPO_ROOT


def make(*args: str) -> str:
    done = subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def test_make_help_shows_the_address_serve_will_use() -> None:
    default = make("help")
    chosen = make("help", "HOST=0.0.0.0", "PORT=9000")

    assert "$(" not in default
    assert "serve models/ on http://127.0.0.1:8000 " in default
    assert "serve models/ on http://0.0.0.0:9000 " in chosen


def test_the_first_setup_says_what_it_is_doing_and_shows_pip_progressing() -> None:
    # -n -W: print what a lock change would run (the first run's recipe), run nothing.
    recipe = make("-n", "-W", "requirements-dev.txt", "setup").splitlines()

    assert any(line.startswith('echo "setup: building .venv') for line in recipe), recipe
    [install] = [line for line in recipe if "-r requirements-dev.txt" in line]
    assert "--require-hashes" in install
    assert "--quiet" not in install
