"""uvicorn's own lines are the service's log lines, from the first one, on a real server.

uvicorn logs "Started server process" and "Waiting for application startup." before the
app exists, so the app's logging set-up comes too late for them; its log config
(app/uvicorn_logging.json) formats them from the start. Checked the three ways the service
is started: `make serve`, docker/serve.py (the images' entrypoint) and uvicorn with the flag.
"""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from tooling.paths import REPO_ROOT

LAUNCHERS = {
    # --silent: make's echo of the command is not the server's output.
    "make serve": lambda port: [shutil.which("make") or "make", "--silent",
                                "--no-print-directory", "serve", "HOST=127.0.0.1", f"PORT={port}"],
    "docker/serve.py": lambda port: [sys.executable, str(REPO_ROOT / "docker" / "serve.py"),
                                     "app.fastapi_app:app", "--host", "127.0.0.1",
                                     "--port", str(port), "--no-access-log"],
}  # fmt: skip
UVICORN_STARTUP = ("Started server process", "Waiting for application startup.",
                   "Application startup complete.", "Uvicorn running on")  # fmt: skip


@pytest.mark.parametrize("how", LAUNCHERS)
def test_every_line_a_server_writes_is_json_uvicorns_included(serve, customer, how):
    server = serve(launcher=LAUNCHERS[how])
    server.wait_for("/ready", 200)
    assert server.http.post("/predict", json=customer).status_code == 200
    server.close()  # its shutdown lines too

    lines = server.log().splitlines()
    records = [json.loads(line) for line in lines]  # fails on the first line that is not JSON
    messages = [record["message"] for record in records]
    for expected in UVICORN_STARTUP:
        found = [r for r in records if r["message"].startswith(expected)]
        assert found, f"no {expected!r} in {messages}"
        assert found[0]["logger"] == "uvicorn.error"
        assert {"level", "pid", "time"} <= set(found[0])
    assert "Shutting down" in messages
    assert "color_message" not in lines[0]


def test_uvicorns_lines_follow_the_text_format_when_asked(serve):
    server = serve(launcher=LAUNCHERS["docker/serve.py"], BANKCHURN_LOG_FORMAT="text")
    server.wait_for("/ready", 200)
    server.close()

    lines = server.log().splitlines()
    started = [line for line in lines if "Started server process" in line]
    assert started
    assert " INFO uvicorn.error Started server process" in started[0]
    assert not [line for line in lines if line.startswith("{")]
