"""The process benchmarks.instructions counts: the real app, driven in process under callgrind.

``python -m benchmarks.callgrind_child SPEC`` runs under ``valgrind --tool=callgrind
--instr-atstart=no``. SPEC (JSON, written by benchmarks.instructions) holds the request,
how many explanations to serve first and how many requests to count. The app is built
from whichever ``app`` and ``bankchurn`` come first on sys.path (committed model, ONNX
backend, JSON access log, every feature on), warmed up, and counting is switched on
(``callgrind_control -i on``) around the counted requests only.

It imports only what every version of the app has (``create_app``, ``Settings``) and no
benchmark module that imports more (benchmarks.serving.adapters needs app.v2_codec), so it
drives an older commit's code as well: benchmarks.instructions runs it with ``-P`` and that
commit's ``app`` and ``src`` first on PYTHONPATH.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from app.fastapi_app import create_app
from app.settings import Settings
from benchmarks.serving.inprocess import await_model, request
from benchmarks.serving.payload import Payload
from tooling.paths import MODEL_DIR

WARM_UP = 50


async def drive(spec: dict[str, Any]) -> None:
    payload = Payload(spec["path"], spec["body"].encode(), spec["rows"])
    app = create_app(Settings(model_dir=MODEL_DIR, backend="onnx"), registry=CollectorRegistry())
    async with app.router.lifespan_context(app):
        await await_model(app)
        for _ in range(WARM_UP):
            await request(app, payload)
        for _ in range(spec["explanations"]):
            await request(app, payload, b"explain=true")
        callgrind("on")
        for _ in range(spec["counted"]):
            await request(app, payload, spec["query"].encode())
        callgrind("off")


def callgrind(switch: str) -> None:
    subprocess.run(
        ["callgrind_control", "-i", switch, str(os.getpid())],
        check=True, stdout=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip


if __name__ == "__main__":
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        asyncio.run(drive(json.loads(Path(sys.argv[1]).read_text())))
