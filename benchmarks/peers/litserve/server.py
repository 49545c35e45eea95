"""LitServe peer: the server a LitServe user writes for models/model.joblib.

The idiomatic LitServe 0.2 API: one ``LitAPI`` (model loaded in ``setup``, the request's
feature rows decoded, P(churn) per row predicted, encoded as JSON), served on CPU by one
inference worker and one API server process over ZeroMQ (``fast_queue``). The harness
(benchmarks/serving) sets ``BENCH_MODEL`` and runs ``python server.py PORT`` from this
folder, pinned to one core.
"""

from __future__ import annotations

import os
import sys

import joblib
import litserve as ls
import numpy as np


class Bankchurn(ls.LitAPI):
    def setup(self, device: str) -> None:
        self.model = joblib.load(os.environ["BENCH_MODEL"])

    # Unannotated, as LitServe's examples write it: LitServe builds the endpoint from this
    # signature, and an annotated ``dict`` is taken for a query parameter, not the body.
    def decode_request(self, request):
        return np.asarray(request["features"], dtype=np.float64)

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(features)[:, 1]

    def encode_response(self, output: np.ndarray) -> dict[str, list[float]]:
        return {"probabilities": output.tolist()}


if __name__ == "__main__":
    # fast_queue=True: ZeroMQ between the API server and the inference worker, what
    # LitServer's docstring says to use above 100 requests/s (and its production example).
    server = ls.LitServer(
        Bankchurn(), accelerator="cpu", devices=1, workers_per_device=1, fast_queue=True
    )
    # log_level="warning": the production configuration of LitServer.run's own docstring
    # (no access line per request; bankchurn writes one, the other peers their defaults).
    server.run(
        host="127.0.0.1",
        port=int(sys.argv[1]),
        num_api_servers=1,
        log_level="warning",
        generate_client_file=False,
    )
