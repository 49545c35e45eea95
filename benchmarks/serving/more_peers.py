"""The peers users pick instead that issue #15 added: LitServe and Ray Serve.

Each runs a server script of ours (benchmarks/peers/<peer>/server.py, the idiomatic
service for models/model.joblib) with the python of its own venv (.venv-bench/<peer>,
from benchmarks/peers/<peer>/requirements.txt), on the port given.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.serving.adapters import (
    litserve_payload,
    litserve_probabilities,
    rayserve_payload,
    rayserve_probabilities,
)
from benchmarks.serving.contestant import Contestant
from tooling.paths import BENCHMARKS_DIR, MODEL_DIR, REPO_ROOT

PEERS = BENCHMARKS_DIR / "peers"
BENCH_VENVS = REPO_ROOT / ".venv-bench"


def script(peer: str) -> list[str]:
    return [str(BENCH_VENVS / peer / "bin" / "python"), str(PEERS / peer / "server.py")]


def ray_tmpdir(workdir: Path) -> dict[str, str]:
    """Ray's session folder (sockets, logs) beside the contestant's work folder, in the run's
    scratch (removed with it), under a short name: Ray refuses socket paths over the 107
    bytes of AF_UNIX, and its session folder's name alone takes 43."""
    return {"RAY_TMPDIR": str(workdir.parent / f"ray{workdir.name[-8:]}")}


def litserve() -> Contestant:
    python = str(BENCH_VENVS / "litserve" / "bin" / "python")
    return Contestant(
        "litserve",
        "LitServe",
        ((python, "litserve"),),
        lambda port, _: [*script("litserve"), str(port)],
        litserve_payload,
        litserve_probabilities,
        env={"BENCH_MODEL": str(MODEL_DIR / "model.joblib")},
        cwd=PEERS / "litserve",
        setup_note="benchmarks/peers/litserve/server.py: one `ls.LitAPI` (setup, decode, "
        "predict_proba, encode), `LitServer(accelerator='cpu', workers_per_device=1, "
        "fast_queue=True)`, "
        "`run(num_api_servers=1)`",
    )


def rayserve() -> Contestant:
    python = str(BENCH_VENVS / "rayserve" / "bin" / "python")

    def command(port: int, _: Path) -> list[str]:
        return [*script("rayserve"), str(port)]

    return Contestant(
        "rayserve",
        "Ray Serve",
        ((python, "ray"),),
        command,
        rayserve_payload,
        rayserve_probabilities,
        env={"BENCH_MODEL": str(MODEL_DIR / "model.joblib"), "RAY_USAGE_STATS_ENABLED": "0"},
        cwd=PEERS / "rayserve",
        workdir_env=ray_tmpdir,
        setup_note="benchmarks/peers/rayserve/server.py: one `@serve.deployment` "
        "(num_replicas=1, num_cpus=1), a local Ray of num_cpus=1 without dashboard, "
        "Serve's HTTP proxy on the port",
    )
