"""Start-up and shutdown: logging, the background model load, SIGHUP, and cleanup.

Nothing here blocks a lone worker's start-up on the model: uvicorn starts answering (so
/health is 200) while the model loads, and /ready turns 200 once it is verified and warm.
A worker started by uvicorn's supervisor (``--workers N``) instead finishes start-up
only once its first load has settled (ready or refused): the supervisor hands it the
shared socket as soon as start-up is done, and on SIGHUP it replaces the workers one by
one, retiring each old worker as soon as its replacement has started; a replacement
that started before its model was ready would answer 503 to its share of the traffic.

SIGHUP in a worker asks for a check of the model folder now (app/model_reload.py). With
``--workers N`` the signal goes to the supervisor, which does not forward it: it
restarts the workers (docs/model-reload.md says what that means for requests).
On SIGTERM the service drains (app/draining.py): /ready 503, Connection: close, still
answering for BANKCHURN_DRAIN_SECONDS; then uvicorn stops accepting connections, lets
in-flight requests finish, and runs the shutdown half below.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.draining import install_drain_on_sigterm
from app.log import configure_logging, model_logger
from app.metrics import forget_this_process
from app.model_state import ModelState
from app.settings import Settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    state: ModelState = app.state.model_state
    configure_logging(settings.log_level, settings.log_format)
    state.start_loading()
    install_drain_on_sigterm(settings.drain_seconds)
    hangup = _handle_sighup(state)
    if multiprocessing.parent_process() is not None:  # a worker of uvicorn's supervisor
        await state.first_attempt_done()
    yield
    if hangup:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
    state.stop()
    forget_this_process()


def _handle_sighup(state: ModelState) -> bool:
    """Make SIGHUP ask for a model check; False where signals cannot be handled."""
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, state.check_now)
    except (RuntimeError, ValueError, NotImplementedError) as error:
        # Not the main thread (an in-process test client) or not a Unix loop.
        model_logger.debug("SIGHUP not handled: %s", error)
        return False
    return True
