"""Serve the committed model with bankchurn and with its peers; load each with wrk.

Writes docs/benchmarks.md (the generated report) and docs/benchmarks.json (the same
numbers for machines: deploy/k8s sizes pods from its ``capacity`` object).

Contestants, all serving models/ and answered with the same 100 customers:

  bankchurn-onnx     our API, BANKCHURN_BACKEND=onnx (the production image's default)
  bankchurn-sklearn  our API, BANKCHURN_BACKEND=sklearn
  mlserver           Seldon MLServer + its scikit-learn runtime, V2 inference protocol
  mlflow             ``mlflow models serve`` of the pipeline saved as an MLflow model
  bentoml            a BentoML service (benchmarks/peers/bentoml/service.py)
  fastapi-trivial    the ceiling: a constant answer on our server stack (peers/trivial_app.py)

Each contestant is one worker process pinned to core ``--server-cpu``, with wrk pinned
to ``--load-cpu``. First each contestant's cold start, alone (process start to the first
correct prediction, median of ``--cold-runs``). Then all of them start together, idle
but the one under load: a parity check (its probabilities for the 100 customers equal
the reference pipeline's within 1e-5; a contestant that answers anything else is not
measured), idle memory, then per payload (one customer; a batch of 100) a warm-up,
``--repeats`` rounds of fixed-duration closed-loop runs at ``--connections`` that go
through the contestants in turn (throughput: median of the rounds), one run each at a
fixed request rate (p50/p99), then loaded memory. Finally the production image's cold
start in Docker (docker run to the first correct prediction).

Ratios to bankchurn-onnx and to the ceiling are reported beside absolute numbers:
they survive a noisy or slower machine, absolute numbers do not.

    .venv/bin/python benchmarks/serving.py [--only bankchurn-onnx,mlflow] [--duration 10]
    .venv/bin/python benchmarks/serving.py --render-only   # the report again from its .json

Peers run from their own venvs (.venv-bench/<peer>, from benchmarks/peers/*/requirements.txt;
``make bench`` creates them). Needs wrk and taskset (Debian packages wrk, util-linux).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bankchurn.artifacts import load_pipeline
from bankchurn.schema import FEATURES, encode_records
from bankchurn.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / "models"
PEERS = ROOT / "benchmarks" / "peers"
VENV_BIN = ROOT / ".venv" / "bin"
BENCH_VENVS = ROOT / ".venv-bench"
LOAD_SCRIPT = ROOT / "benchmarks" / "load.lua"
DOCKER = "/usr/bin/docker"
PRODUCTION_IMAGE_KEY = "BANKCHURN_IMAGE_PRODUCTION"
IMAGES_ENV = ROOT / "scripts" / "images" / "images.env"

BATCH_ROWS = 100
CUSTOMER_SEED = 7
PARITY_TOLERANCE = 1e-5  # the ONNX export's own parity gate (bankchurn.onnx_export)
# Fixed-rate runs: the single-row point, and the same rows/s budget's tenth for batches
# (200 batches/s of 100 rows is 20,000 rows/s, beyond every contestant's one core).
RATES = {"single": 200, "batch": 20}
START_TIMEOUT = 120.0
GOALS = {
    "onnx_vs_best_peer_single_rps": 3.0,
    "onnx_vs_ceiling_single_rps": 0.60,
    "onnx_p99_ms_at_200_rps": 10.0,
    "production_image_cold_start_s": 2.0,
}
MIB = 1024 * 1024


class BenchError(RuntimeError):
    """A precondition or a contestant failed: the message says which and what to do."""


# ---------------------------------------------------------------- the inputs and the answers


def benchmark_customers() -> list[dict[str, Any]]:
    """100 synthetic customers (fixed seed), as the API's snake_case JSON records."""
    columns = synthesize(BATCH_ROWS, seed=CUSTOMER_SEED)
    # .tolist() gives Python ints, floats and strs: the JSON types the API's schema wants.
    values = {feature.name: columns[feature.column].tolist() for feature in FEATURES}
    return [{name: values[name][row] for name in values} for row in range(BATCH_ROWS)]


@dataclass(frozen=True)
class Payload:
    """One request: where it goes, its body, and how to read probabilities back."""

    path: str
    body: bytes
    rows: int


@dataclass(frozen=True)
class Contestant:
    name: str
    title: str
    versions: tuple[tuple[str, str], ...]  # (python executable, distribution) pairs to report
    command: Callable[[int, Path], list[str]]
    payload: Callable[[list[dict[str, Any]], np.ndarray], Payload]
    probabilities: Callable[[Any], list[float]]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    prepare: Callable[[Path, int], None] | None = None
    setup_note: str = ""


def bankchurn_payload(customers: list[dict[str, Any]], _: np.ndarray) -> Payload:
    if len(customers) == 1:
        return Payload("/predict", json.dumps(customers[0]).encode(), 1)
    return Payload("/predict/batch", json.dumps({"customers": customers}).encode(), len(customers))


def bankchurn_probabilities(answer: Any) -> list[float]:
    predictions = answer.get("predictions", [answer])
    return [float(p["churn_probability"]) for p in predictions]


def mlserver_payload(_: list[dict[str, Any]], matrix: np.ndarray) -> Payload:
    body = {
        "inputs": [
            {
                "name": "features",
                "shape": list(matrix.shape),
                "datatype": "FP64",
                "data": matrix.ravel().tolist(),
            }
        ],
        "outputs": [{"name": "predict_proba"}],
    }
    return Payload("/v2/models/bankchurn/infer", json.dumps(body).encode(), len(matrix))


def mlserver_probabilities(answer: Any) -> list[float]:
    [output] = answer["outputs"]
    return [float(p) for p in output["data"][1::2]]  # rows of [P(stay), P(churn)], flattened


def mlflow_payload(_: list[dict[str, Any]], matrix: np.ndarray) -> Payload:
    columns = [feature.column for feature in FEATURES]
    body = {"dataframe_split": {"columns": columns, "data": matrix.tolist()}}
    return Payload("/invocations", json.dumps(body).encode(), len(matrix))


def mlflow_probabilities(answer: Any) -> list[float]:
    return [float(row[1]) for row in answer["predictions"]]


def bentoml_payload(_: list[dict[str, Any]], matrix: np.ndarray) -> Payload:
    return Payload("/predict", json.dumps({"features": matrix.tolist()}).encode(), len(matrix))


def bentoml_probabilities(answer: Any) -> list[float]:
    return [float(p) for p in answer]


# ---------------------------------------------------------------- the contestants


def uvicorn(app: str, *extra: str) -> Callable[[int, Path], list[str]]:
    def command(port: int, _: Path) -> list[str]:
        return [
            str(VENV_BIN / "python"),
            "-m",
            "uvicorn",
            app,
            *extra,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ]

    return command


def prepare_mlserver(workdir: Path, port: int) -> None:
    """settings.json and model-settings.json: the model file, HTTP on ``port``."""
    settings = {
        "host": "127.0.0.1",
        "http_port": port,
        # Its other listeners (gRPC, metrics) on ports of their own; collisions abort start-up.
        "grpc_port": free_port(),
        "metrics_port": free_port(),
        # Inference in the server process. The default, one separate inference worker,
        # dies at start in MLServer 1.7.1 with uvloop 0.23 ("There is no current event
        # loop", mlserver/parallel/worker.py), and on one core it would only add a hop.
        "parallel_workers": 0,
        "debug": False,
        # Its multiprocess metrics files; the default (.metrics in the working folder) is our repo.
        "metrics_dir": str(workdir / "metrics"),
    }
    model = {
        "name": "bankchurn",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": str(MODEL_DIR / "model.joblib")},
    }
    (workdir / "settings.json").write_text(json.dumps(settings))
    (workdir / "model-settings.json").write_text(json.dumps(model))


def prepare_mlflow(workdir: Path, _: int) -> None:
    """Save the verified pipeline as an MLflow model whose pyfunc returns predict_proba."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    pipeline, _card = load_pipeline(MODEL_DIR)
    columns = [feature.column for feature in FEATURES]
    import pandas as pd

    example = pd.DataFrame(encode_records(benchmark_customers()[:5]), columns=columns)
    signature = infer_signature(example, pipeline.predict_proba(example.to_numpy()))
    mlflow.sklearn.save_model(
        pipeline,
        workdir / "model",
        signature=signature,
        pyfunc_predict_fn="predict_proba",
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
    )


def bankchurn(backend: str, library: str, note: str) -> Contestant:
    """Our API on ``backend``, as the production image runs it: one worker, one thread."""
    python = str(VENV_BIN / "python")
    return Contestant(
        f"bankchurn-{backend}",
        f"bankchurn, {'scikit-learn' if backend == 'sklearn' else backend} backend",
        ((python, library), (python, "fastapi"), (python, "uvicorn")),
        uvicorn("app.fastapi_app:app"),
        bankchurn_payload,
        bankchurn_probabilities,
        env={
            "BANKCHURN_MODEL_DIR": str(MODEL_DIR),
            "BANKCHURN_BACKEND": backend,
            "BANKCHURN_INFERENCE_THREADS": "1",
            "BANKCHURN_LOG_FORMAT": "json",
        },
        setup_note=note,
    )


def contestants() -> list[Contestant]:
    venv = VENV_BIN / "python"
    mlserver = BENCH_VENVS / "mlserver" / "bin"
    bentoml = BENCH_VENVS / "bentoml" / "bin"
    return [
        bankchurn(
            "onnx",
            "onnxruntime",
            "`uvicorn app.fastapi_app:app`, one worker, its JSON access log on",
        ),
        bankchurn("sklearn", "scikit-learn", "as above with BANKCHURN_BACKEND=sklearn"),
        Contestant(
            "mlserver",
            "Seldon MLServer, scikit-learn runtime",
            (
                (str(mlserver / "python"), "mlserver"),
                (str(mlserver / "python"), "mlserver-sklearn"),
            ),
            lambda port, workdir: [str(mlserver / "mlserver"), "start", str(workdir)],
            mlserver_payload,
            mlserver_probabilities,
            prepare=prepare_mlserver,
            setup_note="`mlserver start` with model-settings.json (mlserver_sklearn.SKLearnModel, "
            "uri models/model.joblib), parallel_workers=0, V2 protocol asking for predict_proba",
        ),
        Contestant(
            "mlflow",
            "mlflow models serve",
            ((str(venv), "mlflow"),),
            lambda port, workdir: [
                str(VENV_BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                str(workdir / "model"),
                "--env-manager",
                "local",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            mlflow_payload,
            mlflow_probabilities,
            prepare=prepare_mlflow,
            # `mlflow models serve` execs `uvicorn` found on PATH.
            env={"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
            setup_note="the verified pipeline saved with mlflow.sklearn.save_model "
            "(pyfunc_predict_fn=predict_proba, column signature), "
            "`--env-manager local --workers 1`",
        ),
        Contestant(
            "bentoml",
            "BentoML",
            ((str(bentoml / "python"), "bentoml"),),
            lambda port, workdir: [
                str(bentoml / "bentoml"),
                "serve",
                "service:Bankchurn",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            bentoml_payload,
            bentoml_probabilities,
            env={"BENCH_MODEL": str(MODEL_DIR / "model.joblib"), "BENTOML_DO_NOT_TRACK": "True"},
            cwd=PEERS / "bentoml",
            setup_note="benchmarks/peers/bentoml/service.py: `@bentoml.service(workers=1)`, "
            "one `@bentoml.api` taking the feature matrix, `bentoml serve`",
        ),
        Contestant(
            "fastapi-trivial",
            "ceiling: trivial FastAPI endpoint",
            ((str(venv), "fastapi"), (str(venv), "uvicorn")),
            uvicorn("trivial_app:app", "--app-dir", str(PEERS)),
            lambda customers, matrix: Payload(
                "/predict", bankchurn_payload(customers, matrix).body, len(customers)
            ),
            lambda _: [],
            setup_note="benchmarks/peers/trivial_app.py on the same uvicorn/httptools/uvloop: "
            "reads the body, answers a constant; bankchurn's request bodies",
        ),
    ]


# ---------------------------------------------------------------- processes, HTTP, memory


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def post(url: str, body: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 (loopback URLs only)
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, b""


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, from /proc."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                pending.extend(int(child) for child in (task / "children").read_text().split())
    return found


def memory_mib(pid: int) -> dict[str, float]:
    """RSS and PSS summed over the process tree. PSS splits shared pages between the
    processes that map them, so a forking server is not counted twice for its libraries."""
    kib = {"Rss": 0, "Pss": 0}
    for member in tree(pid):
        with contextlib.suppress(OSError):  # a process that exited meanwhile
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in kib:
                    kib[key] += int(value.split()[0])
    return {key.lower(): round(total * 1024 / MIB, 1) for key, total in kib.items()}


def first_answer(
    url: str, body: bytes, started: float, what: str, exited: Callable[[], str | None]
) -> float:
    """Seconds from ``started`` to the first 200 to ``body`` at ``url``, polled every 10 ms.

    ``exited`` says why the server is gone (it then cannot answer), or None while it runs."""
    deadline = started + START_TIMEOUT
    while time.monotonic() < deadline:
        gone = exited()
        if gone is not None:
            raise BenchError(f"{what} {gone}")
        status, _ = post(url, body, timeout=2.0)
        if status == 200:
            return time.monotonic() - started
        time.sleep(0.01)
    raise BenchError(f"{what} did not answer within {START_TIMEOUT:.0f} s")


class Server:
    """One contestant's server process, pinned to a core, stopped (whole group) on exit."""

    def __init__(self, contestant: Contestant, cpu: int, workdir: Path, log: Path) -> None:
        self.contestant = contestant
        self.cpu = cpu
        self.workdir = workdir
        self.log = log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> float:
        """Start the server; returns time.monotonic() at the start."""
        if self.contestant.prepare is not None:
            self.contestant.prepare(self.workdir, self.port)
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            **self.contestant.env,
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.pop("WEB_CONCURRENCY", None)
        command = [
            "taskset",
            "-c",
            str(self.cpu),
            *self.contestant.command(self.port, self.workdir),
        ]
        started = time.monotonic()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.contestant.cwd,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        return started

    def wait_answering(self, payload: Payload, started: float) -> float:
        """Seconds from ``started`` to the first 200 answer to ``payload``."""
        return first_answer(
            self.url(payload.path), payload.body, started, self.contestant.name, self._exited
        )

    def _exited(self) -> str | None:
        if self.process is None:
            return "was never started"
        code = self.process.poll()
        if code is None:
            return None
        tail = self.log.read_text(errors="replace").splitlines()[-15:]
        return f"exited ({code}) before answering; the end of its output:\n  " + "\n  ".join(tail)

    @property
    def pid(self) -> int:
        if self.process is None:
            raise BenchError(f"{self.contestant.name} was never started")
        return self.process.pid

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):  # children that outlived the leader
            os.killpg(self.process.pid, signal.SIGKILL)


@contextlib.contextmanager
def running(contestant: Contestant, cpu: int, scratch: Path) -> Iterator[tuple[Server, float]]:
    workdir = Path(tempfile.mkdtemp(prefix=f"{contestant.name}-", dir=scratch))
    server = Server(contestant, cpu, workdir, scratch / f"{contestant.name}.log")
    started = server.start()
    try:
        yield server, started
    finally:
        server.stop()


# ---------------------------------------------------------------- wrk


def wrk(
    url: str, body_file: Path, *, cpu: int, connections: int, seconds: int, rate: int | None
) -> dict[str, Any]:
    env = {**os.environ, "BENCH_BODY_FILE": str(body_file)}
    if rate is not None:
        env["BENCH_RATE"] = str(rate)
    else:
        env.pop("BENCH_RATE", None)
    command = [
        "taskset",
        "-c",
        str(cpu),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",  # wrk takes whole seconds only
        "--timeout",
        "10s",
        "-s",
        str(LOAD_SCRIPT),
        url,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, check=False, timeout=seconds + 60
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise BenchError(f"wrk failed ({result.returncode}): {result.stderr or result.stdout}")
    run: dict[str, Any] = json.loads(lines[-1])
    run["rps"] = run["ok"] / (run["duration_us"] / 1e6)
    return run


# ---------------------------------------------------------------- one contestant


def check_parity(
    server: Server, contestant: Contestant, payload: Payload, reference: np.ndarray
) -> float | None:
    """Largest |p - reference| over the batch; raises when a contestant answers otherwise."""
    status, raw = post(server.url(payload.path), payload.body, timeout=30)
    if status != 200:
        raise BenchError(f"{contestant.name}: {payload.path} answered {status}: {raw[:500]!r}")
    probabilities = contestant.probabilities(json.loads(raw))
    if not probabilities:
        return None  # the ceiling answers a constant
    if len(probabilities) != len(reference):
        raise BenchError(
            f"{contestant.name}: {len(probabilities)} probabilities for {len(reference)} rows"
        )
    difference = float(np.max(np.abs(np.asarray(probabilities) - reference)))
    if difference > PARITY_TOLERANCE:
        raise BenchError(
            f"{contestant.name} disagrees with the reference pipeline by {difference:.3g} "
            f"(> {PARITY_TOLERANCE}); it is not serving the same model"
        )
    return difference


def version_of(python: str, distribution: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(
            f"{distribution} is not installed for {python}; run `make bench` (it creates "
            ".venv-bench/ from benchmarks/peers/*/requirements.txt)"
        )
    return result.stdout.strip()


def cold_starts(
    contestant: Contestant, payload: Payload, runs: int, cpu: int, scratch: Path
) -> dict[str, Any]:
    """Process start to the first 200 answer, ``runs`` times, each a fresh process."""
    times = []
    for _ in range(runs):
        with running(contestant, cpu, scratch) as (server, started):
            times.append(server.wait_answering(payload, started))
    print(f"{contestant.name}: cold start median {statistics.median(times):.2f} s", flush=True)
    return {"median": statistics.median(times), "runs": times}


def summarize(
    payload: Payload, runs: list[dict[str, Any]], rate: dict[str, Any], target: int
) -> dict[str, Any]:
    return {
        "rows": payload.rows,
        "bytes": len(payload.body),
        "throughput_rps": statistics.median(run["rps"] for run in runs),
        "throughput_runs": [run["rps"] for run in runs],
        "throughput_p50_ms": statistics.median(run["latency_us"]["p50"] for run in runs) / 1000,
        "errors": sum(run["requests"] - run["ok"] for run in [*runs, rate]),
        "rate": {
            "target_rps": target,
            "achieved_rps": rate["rps"],
            "late_sends": rate["late"],
            "p50_ms": rate["latency_us"]["p50"] / 1000,
            "p90_ms": rate["latency_us"]["p90"] / 1000,
            "p99_ms": rate["latency_us"]["p99"] / 1000,
            "max_ms": rate["latency_us"]["max"] / 1000,
        },
    }


@dataclass(frozen=True)
class LoadTarget:
    """One contestant's URL and request body for one payload kind."""

    url: str
    body_file: Path

    def run(
        self, args: argparse.Namespace, seconds: int, rate: int | None = None
    ) -> dict[str, Any]:
        connections = args.connections if rate is None else args.rate_connections
        return wrk(
            self.url,
            self.body_file,
            cpu=args.load_cpu,
            connections=connections,
            seconds=seconds,
            rate=rate,
        )


def measure_all(
    chosen: list[Contestant],
    inputs: dict[str, tuple[list[dict[str, Any]], np.ndarray]],
    reference: np.ndarray,
    args: argparse.Namespace,
    scratch: Path,
) -> dict[str, Any]:
    """Every contestant's numbers. All servers run at once (idle but one), and the timed
    runs go round by round across contestants: when the machine slows down mid-run, every
    contestant's median is hit alike, and the ratios between them hold."""
    payloads = {c.name: {kind: c.payload(*rows) for kind, rows in inputs.items()} for c in chosen}
    results: dict[str, Any] = {
        c.name: {
            "title": c.title,
            "setup": c.setup_note,
            "versions": {dist: version_of(python, dist) for python, dist in c.versions},
            "cold_start_s": cold_starts(
                c, payloads[c.name]["single"], args.cold_runs, args.server_cpu, scratch
            ),
        }
        for c in chosen
    }
    with contextlib.ExitStack() as stack:
        servers: dict[str, Server] = {}
        for c in chosen:
            server, started = stack.enter_context(running(c, args.server_cpu, scratch))
            server.wait_answering(payloads[c.name]["single"], started)
            results[c.name]["parity_max_abs_diff"] = check_parity(
                server, c, payloads[c.name]["batch"], reference
            )
            servers[c.name] = server
        time.sleep(2)  # let start-up work (imports, first-request caches) settle
        for name, server in servers.items():
            results[name]["memory_idle_mib"] = memory_mib(server.pid)
        for kind in inputs:
            targets = {
                name: LoadTarget(
                    server.url(payloads[name][kind].path), scratch / f"{name}-{kind}.json"
                )
                for name, server in servers.items()
            }
            for name, target in targets.items():
                target.body_file.write_bytes(payloads[name][kind].body)
                target.run(args, args.warmup)
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
            for round_ in range(1, args.repeats + 1):
                for name, target in targets.items():
                    runs[name].append(target.run(args, args.duration))
                line = ", ".join(f"{name} {runs[name][-1]['rps']:,.0f}" for name in servers)
                print(f"{kind} round {round_}: req/s {line}", flush=True)
            for name, target in targets.items():
                rate = target.run(args, args.rate_duration, RATES[kind])
                results[name][kind] = summarize(payloads[name][kind], runs[name], rate, RATES[kind])
                latency = rate["latency_us"]
                print(
                    f"{kind} at {RATES[kind]}/s: {name} p50 {latency['p50'] / 1000:.2f} ms "
                    f"p99 {latency['p99'] / 1000:.2f} ms, late {rate['late']}",
                    flush=True,
                )
        for name, server in servers.items():
            results[name]["memory_loaded_mib"] = memory_mib(server.pid)
    return results


# ---------------------------------------------------------------- the production image


def production_image_cold_start(payload: Payload, runs: int, cpu: int) -> dict[str, Any]:
    """docker run (hardened as compose runs it) to the first 200 from /predict."""
    image = dict(
        line.split("=", 1)
        for line in IMAGES_ENV.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )[PRODUCTION_IMAGE_KEY]
    if subprocess.run(
        [DOCKER, "image", "inspect", image], capture_output=True, check=False
    ).returncode:
        raise BenchError(f"{image} is not built (or the engine is down): run `make images` first")
    times = []
    for _ in range(runs):
        port = free_port()
        name = f"bankchurn-bench-serving-{port}"
        started = time.monotonic()
        subprocess.run(
            [
                DOCKER,
                "run",
                "-d",
                "--rm",
                "--name",
                name,
                "--read-only",
                "--tmpfs",
                "/tmp",  # noqa: S108 (the container's own tmpfs, as compose mounts it)
                "--cap-drop",
                "ALL",
                "--security-opt",
                "no-new-privileges",
                "--cpuset-cpus",
                str(cpu),
                "-p",
                f"127.0.0.1:{port}:8000",
                image,
            ],
            check=True,
            capture_output=True,
        )
        try:
            url = f"http://127.0.0.1:{port}{payload.path}"
            times.append(first_answer(url, payload.body, started, image, lambda: None))
        finally:
            subprocess.run([DOCKER, "rm", "-f", name], capture_output=True, check=False)
    return {"image": image, "median_s": statistics.median(times), "runs": times}


# ---------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": (wrk_version.stdout or wrk_version.stderr).split()[1],
    }


def goals(results: dict[str, Any], image: dict[str, Any] | None) -> list[dict[str, Any]]:
    def single(name: str) -> float:
        return float(results[name]["single"]["throughput_rps"]) if name in results else 0.0

    peers = [name for name in ("mlserver", "mlflow", "bentoml") if name in results]
    onnx = single("bankchurn-onnx")
    checks: list[dict[str, Any]] = []
    if onnx and peers:
        best = max(peers, key=single)
        checks.append(
            {
                "goal": "bankchurn-onnx single-row throughput >= "
                f"{GOALS['onnx_vs_best_peer_single_rps']:g}x the best peer ({best})",
                "value": f"{onnx / single(best):.1f}x",
                "met": onnx / single(best) >= GOALS["onnx_vs_best_peer_single_rps"],
            }
        )
    if onnx and "fastapi-trivial" in results:
        ratio = onnx / single("fastapi-trivial")
        checks.append(
            {
                "goal": f"bankchurn-onnx single-row throughput >= "
                f"{GOALS['onnx_vs_ceiling_single_rps']:.0%} of the trivial-endpoint ceiling",
                "value": f"{ratio:.0%}",
                "met": ratio >= GOALS["onnx_vs_ceiling_single_rps"],
            }
        )
    if onnx:
        rate = results["bankchurn-onnx"]["single"]["rate"]
        checks.append(
            {
                "goal": f"bankchurn-onnx p99 <= {GOALS['onnx_p99_ms_at_200_rps']:g} ms at "
                f"{rate['target_rps']} requests/s (single row), rate sustained",
                "value": f"p99 {rate['p99_ms']:.2f} ms at {rate['achieved_rps']:.0f}/s, "
                f"{rate['late_sends']} late sends",
                "met": rate["p99_ms"] <= GOALS["onnx_p99_ms_at_200_rps"]
                and rate["late_sends"] == 0,
            }
        )
    if image:
        checks.append(
            {
                "goal": "production image cold start <= "
                f"{GOALS['production_image_cold_start_s']:g} s (docker run to first prediction)",
                "value": f"{image['median_s']:.2f} s",
                "met": image["median_s"] <= GOALS["production_image_cold_start_s"],
            }
        )
    return checks


def capacity(
    results: dict[str, Any], image: dict[str, Any] | None, args: argparse.Namespace
) -> dict[str, Any] | None:
    """One pod's measured capacity, the numbers deploy/k8s sizes itself from.

    The cold start is the production image's (what a pod runs) when it was measured,
    else the host process's, which starts faster (no container set-up)."""
    onnx = results.get("bankchurn-onnx")
    if onnx is None:
        return None
    cold_start = image["median_s"] if image else onnx["cold_start_s"]["median"]
    return {
        "contestant": "bankchurn-onnx",
        "workers": 1,
        "cpus": 1,
        "connections": args.connections,
        "single_row_rps": round(onnx["single"]["throughput_rps"], 1),
        "batch100_rps": round(onnx["batch"]["throughput_rps"], 1),
        "fixed_rate_rps": onnx["single"]["rate"]["target_rps"],
        "p99_ms_at_fixed_rate": onnx["single"]["rate"]["p99_ms"],
        "cold_start_s": round(cold_start, 3),
        "cold_start_of": image["image"] if image else "process",
        "rss_idle_mib": onnx["memory_idle_mib"]["rss"],
        "rss_loaded_mib": onnx["memory_loaded_mib"]["rss"],
    }


def render(report: dict[str, Any]) -> str:
    results: dict[str, Any] = report["results"]
    ceiling = results.get("fastapi-trivial")
    onnx = results.get("bankchurn-onnx")
    m = report["machine"]
    out = [
        "# Serving benchmark: bankchurn against its peers",
        "",
        f"Generated by `{report['command']}` on {report['date']}. Do not edit by hand.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}, "
        f"Python {m['python']}, wrk {m['wrk']}. Each server ran as one worker process pinned to "
        f"core {report['settings']['server_cpu']}, all started together and loaded one at a "
        f"time; wrk (one thread) on core "
        f"{report['settings']['load_cpu']}. Same model (models/, verified by sha256), same 100 "
        f"synthetic customers (seed {CUSTOMER_SEED}); every contestant's probabilities were "
        f"checked against the pipeline's (max |diff| column) before it was timed.",
        "",
        f"Throughput: closed loop, {report['settings']['connections']} connections, "
        f"{report['settings']['warmup']:g} s warm-up, then the median of "
        f"{report['settings']['repeats']} rounds of {report['settings']['duration']:g} s "
        "that take the contestants in turn. "
        f"Latency: open loop at a fixed rate ({RATES['single']}/s single row, "
        f"{RATES['batch']}/s batches of {BATCH_ROWS}) for "
        f"{report['settings']['rate_duration']:g} s over "
        f"{report['settings']['rate_connections']} connections (benchmarks/load.lua); "
        "a late send means the server fell behind the schedule.",
        "",
        "## Goals",
        "",
        "| goal | measured | met |",
        "|---|---|---|",
    ]
    out += [
        f"| {g['goal']} | {g['value']} | {'yes' if g['met'] else '**NO**'} |"
        for g in report["goals"]
    ]
    for kind, label in (
        ("single", "one customer per request"),
        ("batch", f"{BATCH_ROWS} customers per request"),
    ):
        out += [
            "",
            f"## Throughput and latency: {label}",
            "",
            *(
                [
                    "The ceiling answers a constant, so for batches it only shows what moving "
                    f"a {BATCH_ROWS}-customer body costs; compare the contestants with each other.",
                    "",
                ]
                if kind == "batch"
                else []
            ),
            "| contestant | req/s | rows/s | vs bankchurn-onnx | vs ceiling | p50 under load | "
            f"p50 at {RATES[kind]}/s | p99 at {RATES[kind]}/s | achieved, late | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, r in results.items():
            row = r[kind]
            versus_onnx = (
                f"{row['throughput_rps'] / onnx[kind]['throughput_rps']:.2f}x" if onnx else "-"
            )
            versus_ceiling = (
                f"{row['throughput_rps'] / ceiling[kind]['throughput_rps']:.0%}" if ceiling else "-"
            )
            rate = row["rate"]
            out.append(
                f"| {name} | {row['throughput_rps']:,.0f} "
                f"| {row['throughput_rps'] * row['rows']:,.0f} "
                f"| {versus_onnx} | {versus_ceiling} | {row['throughput_p50_ms']:.2f} ms "
                f"| {rate['p50_ms']:.2f} ms | {rate['p99_ms']:.2f} ms "
                f"| {rate['achieved_rps']:.0f}/s, {rate['late_sends']} | {row['errors']} |"
            )
    out += [
        "",
        "## Start-up and memory",
        "",
        "Cold start: process start to the first correct prediction, median of "
        f"{report['settings']['cold_runs']}. Memory summed over the contestant's processes "
        "(PSS counts pages shared between a server's processes once).",
        "",
        "| contestant | cold start | idle RSS / PSS | loaded RSS / PSS | parity max diff "
        "| versions |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, r in results.items():
        diff = r["parity_max_abs_diff"]
        versions = ", ".join(f"{k} {v}" for k, v in r["versions"].items())
        out.append(
            f"| {name} | {r['cold_start_s']['median']:.2f} s "
            f"| {r['memory_idle_mib']['rss']:.0f} / {r['memory_idle_mib']['pss']:.0f} MiB "
            f"| {r['memory_loaded_mib']['rss']:.0f} / {r['memory_loaded_mib']['pss']:.0f} MiB "
            f"| {'-' if diff is None else f'{diff:.1e}'} | {versions} |"
        )
    if report.get("image"):
        image = report["image"]
        runs = ", ".join(f"{t:.2f}" for t in image["runs"])
        out += [
            "",
            f"Production image `{image['image']}` (docker run --read-only, one core) to the first "
            f"prediction: median {image['median_s']:.2f} s (runs: {runs} s).",
        ]
    out += ["", "## How each contestant ran", ""]
    out += [f"- **{name}** ({r['title']}): {r['setup']}." for name, r in results.items()]
    out += [
        "",
        "Peers receive the customers already encoded as the model's 10-number rows (their",
        "native tensor/dataframe inputs) and do no domain validation; bankchurn receives named",
        "JSON fields and checks every range and category: on equal work its lead would grow.",
        "The peers serve the scikit-learn pipeline (none of them runs this ONNX file out of the",
        "box), so bankchurn-sklearn against them compares the serving stacks on the same library.",
        "",
    ]
    return "\n".join(out)


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated contestant names (default: all)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per throughput run")
    parser.add_argument("--repeats", type=int, default=3, help="throughput runs per payload")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per payload")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (throughput)")
    parser.add_argument("--rate-duration", type=int, default=15, help="seconds per fixed-rate run")
    parser.add_argument("--rate-connections", type=int, default=16)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1)
    parser.add_argument("--skip-image", action="store_true", help="no Docker cold-start run")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite --out from the numbers already in its .json",
    )
    args = parser.parse_args(argv)
    if args.render_only:
        args.out.write_text(render(json.loads(args.out.with_suffix(".json").read_text())))
        print(f"rewrote {args.out} from {args.out.with_suffix('.json')}")
        return 0

    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise BenchError(f"{tool} not found: apt-get install wrk util-linux")
    chosen = contestants()
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {c.name for c in chosen}
        if unknown:
            raise BenchError(
                f"unknown contestants {sorted(unknown)}; known: {[c.name for c in chosen]}"
            )
        chosen = [c for c in chosen if c.name in wanted]

    customers = benchmark_customers()
    matrix = encode_records(customers)
    pipeline, _card = load_pipeline(MODEL_DIR)
    reference = pipeline.predict_proba(matrix)[:, 1]
    inputs = {"single": (customers[:1], matrix[:1]), "batch": (customers, matrix)}

    with tempfile.TemporaryDirectory(prefix="bankchurn-bench-") as scratch:
        results = measure_all(chosen, inputs, reference, args, Path(scratch))
    image = None
    if not args.skip_image:
        payload = bankchurn_payload(customers[:1], matrix[:1])
        image = production_image_cold_start(payload, args.cold_runs, args.server_cpu)
        print(f"production image cold start: median {image['median_s']:.2f} s", flush=True)

    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": shlex.join([".venv/bin/python", "benchmarks/serving.py", *sys.argv[1:]]),
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "only")},
        "results": results,
        "image": image,
    }
    report["goals"] = goals(results, image)
    report["capacity"] = capacity(results, image, args)
    args.out.write_text(render(report))
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"benchmark: {error}", file=sys.stderr)
        sys.exit(1)
