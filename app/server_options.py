"""The uvicorn options the service is run with, unless a caller sets its own.

docker/serve.py (the images' entrypoint) adds them to the arguments it is given: the
service's HTTP protocol (header timeout, connection cap, idle close at shutdown:
app/http_protocol.py), a graceful-shutdown timeout that fits the orchestrators' grace
periods (docs/reliability.md), and the log config that makes uvicorn's own start-up lines
JSON (app/uvicorn_logging.json). Here, in the package, so tests import them.
"""

from __future__ import annotations

from importlib.resources import files

SERVER_DEFAULTS = {
    "--http": "app.http_protocol:GuardedHttpToolsProtocol",
    "--timeout-graceful-shutdown": "10",
}


def uvicorn_arguments(args: list[str]) -> list[str]:
    """``args`` plus each of SERVER_DEFAULTS (and the log config) the caller did not set."""
    given = {arg.split("=", 1)[0] for arg in args}
    defaults = {**SERVER_DEFAULTS, "--log-config": str(files("app") / "uvicorn_logging.json")}
    extra = [part for flag, value in defaults.items() if flag not in given
             for part in (flag, value)]  # fmt: skip
    return [*args, *extra]
