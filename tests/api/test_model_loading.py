"""How the model is loaded for serving: on one inference thread, with its OpenMP limit."""

from __future__ import annotations


def test_a_fresh_server_predicts_with_the_configured_openmp_threads(run_python):
    """OpenMP limits are per thread and apply only to a loaded runtime: checked in a new
    process, on the thread that loaded the model and makes every prediction."""
    code = """
        import json, time
        from fastapi.testclient import TestClient
        from threadpoolctl import threadpool_info
        from app.fastapi_app import app
        from bankchurn.schema import EXAMPLE_CUSTOMER

        def openmp_threads():
            libraries = threadpool_info()
            return sorted({lib["num_threads"] for lib in libraries if lib["user_api"] == "openmp"})

        with TestClient(app) as client:
            while client.get("/ready").status_code != 200:
                time.sleep(0.05)
            status = client.post("/predict", json=EXAMPLE_CUSTOMER).status_code
            model = app.state.model_state.model
            threads = model.executor.submit(openmp_threads).result()
        print(json.dumps({"status": status, "threads": threads}))
    """
    # OMP_NUM_THREADS=2: what an unpinned process would use on 2 cores.
    result = run_python(code, BANKCHURN_INFERENCE_THREADS="1", OMP_NUM_THREADS="2")

    assert result == {"status": 200, "threads": [1]}
