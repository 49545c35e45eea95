"""Start-up and shutdown: logging, the background model load, and cleanup.

Nothing here blocks start-up on the model: uvicorn starts answering (so /health is
200) while the model loads, and /ready turns 200 once it is verified and warm.
On SIGTERM the service drains (app/draining.py): /ready 503, Connection: close, still
answering for BANKCHURN_DRAIN_SECONDS; then uvicorn stops accepting connections, lets
in-flight requests finish, and runs the shutdown half below.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.draining import install_drain_on_sigterm
from app.log import configure_logging
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
    yield
    state.stop()
    forget_this_process()
