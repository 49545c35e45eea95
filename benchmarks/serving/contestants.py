"""The contestants: how each server is started on a port, and what it is sent.

Each is one worker process serving models/; peers run from their own venvs
(.venv-bench/<peer>, which `make bench` creates from benchmarks/peers/*/requirements.txt).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from bankchurn.artifacts import load_pipeline
from bankchurn.schema import FEATURES, encode_records
from benchmarks.goals import BEFORE_ISSUE_15
from benchmarks.serving.adapters import (
    bankchurn_payload,
    bankchurn_probabilities,
    bankchurn_v2_payload,
    bankchurn_v2_probabilities,
    benchmark_customers,
    bentoml_payload,
    bentoml_probabilities,
    mlflow_payload,
    mlflow_probabilities,
    mlserver_payload,
    mlserver_probabilities,
)
from benchmarks.serving.checks import drift_counters
from benchmarks.serving.contestant import (
    Contestant as Contestant,
)  # re-exported for imports from here
from benchmarks.serving.more_peers import litserve, rayserve
from benchmarks.serving.payload import Payload
from benchmarks.serving.variants import at_commit, explaining, without_drift
from tooling.net import free_port
from tooling.paths import BENCHMARKS_DIR, MODEL_DIR, REPO_ROOT, VENV_BIN

PEERS = BENCHMARKS_DIR / "peers"
BENCH_VENVS = REPO_ROOT / ".venv-bench"


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
        verify=drift_counters(exported=True),
    )


def bankchurn_v2() -> Contestant:
    """Our Open Inference Protocol endpoint on scikit-learn: MLServer's protocol and runtime,
    so the two differ only in the server."""
    plain = bankchurn("sklearn", "scikit-learn", "")
    return Contestant(
        "bankchurn-v2",
        "bankchurn, Open Inference Protocol (V2), scikit-learn backend",
        plain.versions,
        plain.command,
        bankchurn_v2_payload,
        bankchurn_v2_probabilities,
        env=plain.env,
        setup_note="as bankchurn-sklearn, sent to POST /v2/models/bankchurn/infer: one named "
        "input per feature (columnar), asking for churn_probability",
    )


def contestants() -> list[Contestant]:
    venv = VENV_BIN / "python"
    mlserver = BENCH_VENVS / "mlserver" / "bin"
    bentoml = BENCH_VENVS / "bentoml" / "bin"
    onnx = bankchurn(
        "onnx",
        "onnxruntime",
        "`uvicorn app.fastapi_app:app`, one worker, its JSON access log on",
    )
    sklearn = bankchurn("sklearn", "scikit-learn", "as above with BANKCHURN_BACKEND=sklearn")
    return [
        onnx,
        sklearn,
        without_drift(onnx),
        at_commit(onnx, BEFORE_ISSUE_15),
        explaining(onnx),
        explaining(sklearn),
        bankchurn_v2(),
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
        Contestant(
            "fastapi-typed",
            "typed ceiling: bankchurn's request and response models on FastAPI",
            ((str(venv), "fastapi"), (str(venv), "pydantic")),
            uvicorn("typed_app:app", "--app-dir", str(PEERS)),
            bankchurn_payload,
            lambda _: [],
            setup_note="benchmarks/peers/typed_app.py on the same stack: parses app.schemas' "
            "PredictRequest (BatchRequest), answers a constant ChurnPrediction "
            "(BatchResponse) through FastAPI's response model; bankchurn's request bodies",
        ),
        litserve(),
        rayserve(),
    ]
