"""Logging: JSON lines (or plain text) on stderr, one access line per request.

Named ``log`` so it does not shadow the standard library's ``logging``. The service
logs under ``bankchurn.api.*``; uvicorn's server messages are routed through the same
handler once the app starts, and uvicorn's own access log is switched off because
``RequestContextMiddleware`` writes a better one (request id, route template, latency).
Run uvicorn with ``--no-access-log`` as well, so it does not even format those lines.
uvicorn logs its first lines ("Started server process", "Waiting for application
startup.") before the app exists: ``--log-config app/uvicorn_logging.json`` (``make serve``
and docker/serve.py pass it) gives them this module's handler and format from the start,
through ``server_formatter``.
Customers' feature values are never logged unless BANKCHURN_LOG_FEATURES=true.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter

from app.settings import SettingsError, get_settings

LOGGER = "bankchurn.api"
access_logger = logging.getLogger(f"{LOGGER}.access")
model_logger = logging.getLogger(f"{LOGGER}.model")
error_logger = logging.getLogger(f"{LOGGER}.errors")
prediction_logger = logging.getLogger(f"{LOGGER}.predictions")

# uvicorn's loggers whose messages we re-emit in our format; uvicorn.access is silenced.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error")
# uvicorn adds an ANSI-coloured copy of its messages; it is noise in a log pipeline.
_NOT_LOGGED = frozenset([*RESERVED_ATTRS, "color_message"])


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record is emitted, like logging's own
    last-resort handler, so redirections made after start-up (test capture) are honoured."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        """Ignored: the stream is always the current ``sys.stderr``."""


class TextFormatter(logging.Formatter):
    """``time level logger message key=value ...``: the extras a JSON line would carry."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        extras = {k: v for k, v in record.__dict__.items() if k not in _NOT_LOGGED}
        line = super().format(record)
        return line + "".join(f" {key}={value!r}" for key, value in extras.items())


def _formatter(fmt: Literal["json", "text"]) -> logging.Formatter:
    if fmt == "text":
        return TextFormatter()
    # pid tells the workers of one server apart. orjson, not the json module, encodes the
    # line: half the formatter's time, on a line written per request (docs/performance.md).
    return OrjsonFormatter(
        ["levelname", "name", "process", "message"],
        rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
        reserved_attrs=sorted(_NOT_LOGGED),
        timestamp="time",
    )


def server_formatter() -> logging.Formatter:
    """The formatter uvicorn's log config names: the service's format (BANKCHURN_LOG_FORMAT)."""
    try:
        fmt = get_settings().log_format
    except SettingsError:
        # The lifespan refuses these settings, with the reason; say it in the default format.
        fmt = "json"
    return _formatter(fmt)


def _skip_unlogged_record_fields() -> None:
    """Stop logging from collecting what no line of this service shows.

    Every LogRecord looks up the calling function (a walk up the stack), the thread, the
    multiprocessing process name and the asyncio task; the formats above print none of
    them, and the access log writes a record per request. These are the switches the
    logging HOWTO documents for it ("Optimization"); the process id is still collected.
    """
    logging._srcfile = None  # skips findCaller; the HOWTO names this private attribute
    logging.logThreads = False
    logging.logMultiprocessing = False
    if sys.version_info >= (3, 12):
        logging.logAsyncioTasks = False


def configure_logging(level: str, fmt: Literal["json", "text"]) -> None:
    """Install one stderr handler for the service (idempotent: replaces earlier ones)."""
    _skip_unlogged_record_fields()
    handler = StderrHandler()
    handler.setFormatter(_formatter(fmt))
    service = logging.getLogger(LOGGER)
    service.handlers = [handler]
    service.setLevel(level)
    service.propagate = False
    for name in _UVICORN_LOGGERS:
        server = logging.getLogger(name)
        server.handlers = [handler]
        server.propagate = False
    logging.getLogger("uvicorn.access").disabled = True
