"""Ray Serve peer: the deployment a Ray Serve user writes for models/model.joblib.

The idiomatic Ray Serve 2 application: one ``@serve.deployment`` class (model loaded in
``__init__``, the request's feature rows in, P(churn) per row out as JSON), one replica,
behind Serve's HTTP proxy. Ray is made to fit one core: a local cluster of ``num_cpus=1``
(the replica takes that CPU; Serve's controller and proxy take none), no dashboard, the
node and Serve's proxy on 127.0.0.1, the proxy on the port given. The harness
(benchmarks/serving) sets ``BENCH_MODEL`` and ``RAY_TMPDIR`` and runs
``python server.py PORT``, pinned to one core.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import joblib
import numpy as np
import ray
from ray import serve
from starlette.requests import Request


@serve.deployment(num_replicas=1, ray_actor_options={"num_cpus": 1})
class Bankchurn:
    def __init__(self, path: str) -> None:
        self.model = joblib.load(path)

    async def __call__(self, request: Request) -> dict[str, Any]:
        body = await request.json()
        features = np.asarray(body["features"], dtype=np.float64)
        return {"probabilities": self.model.predict_proba(features)[:, 1].tolist()}


if __name__ == "__main__":
    ray.init(
        num_cpus=1,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        _temp_dir=os.environ["RAY_TMPDIR"],
    )
    serve.start(http_options={"host": "127.0.0.1", "port": int(sys.argv[1])})
    serve.run(Bankchurn.bind(os.environ["BENCH_MODEL"]), route_prefix="/predict", blocking=True)
