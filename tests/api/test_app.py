"""The app as wired by ``app.fastapi_app``: offline docs, OpenAPI contract, lean imports."""

from __future__ import annotations

import re

import pytest

from bankchurn.schema import FEATURES
from tooling.paths import REPO_ROOT

ASSET = re.compile(r"""(?:src|href)\s*[=:]\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_service_itself(client, page):
    response = client.get(page)

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assets = [url for url in ASSET.findall(response.text) if not url.startswith("#")]
    assert any(url.endswith(".js") for url in assets)
    for url in assets:
        assert url.startswith("/"), f"{page} loads {url} from another host"
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0, url


def test_openapi_documents_the_endpoints_and_their_errors(client):
    response = client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    native = {"/health", "/ready", "/predict", "/predict/batch", "/model", "/metrics"}
    assert {path for path in paths if not path.startswith("/v2")} == native  # V2: test_v2.py
    error_ref = "#/components/schemas/ErrorResponse"
    for path, status in [("/predict", "413"), ("/predict", "422"), ("/predict", "503"),
                         ("/predict/batch", "413"), ("/ready", "503"), ("/model", "503"),
                         ("/health", "500"), ("/metrics", "500")]:  # fmt: skip
        operation = next(iter(paths[path].values()))
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": error_ref}, (path, status)
    assert set(paths["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}


def test_openapi_customer_schema_comes_from_the_feature_contract(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    customer = schemas["PredictRequest"]

    assert customer["additionalProperties"] is False
    assert set(customer["properties"]) == {f.name for f in FEATURES} | {"id"}
    assert customer["properties"]["age"]["minimum"] == 18
    assert customer["properties"]["geography"]["enum"] == ["France", "Germany", "Spain"]
    assert "`CreditScore`" in customer["properties"]["credit_score"]["description"]
    assert customer["examples"][0]["credit_score"] == 619


def test_importing_the_app_loads_no_model(run_python):
    result = run_python(
        """
        import json, sys, threading
        import app.fastapi_app
        print(json.dumps({"sklearn": "sklearn" in sys.modules,
                          "threads": threading.active_count()}))
        """
    )

    assert result == {"sklearn": False, "threads": 1}


def test_serving_path_imports_neither_pandas_nor_mlflow(run_python):
    """Serve and predict with pandas and MLflow made unimportable, as in the runtime image.

    They are installed here (training needs them), and scikit-learn probes for pandas
    whenever it is importable (sklearn/utils/fixes.py); so the check is that serving
    works without them and that no import of them comes from app/ or bankchurn.
    """
    result = run_python(
        """
        import json, sys, time, traceback
        from importlib.abc import MetaPathFinder

        BLOCKED = ("pandas", "mlflow")
        callers = []

        class NotInstalled(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] not in BLOCKED:
                    return None
                frames = [f.filename for f in traceback.extract_stack()]
                callers.append(next(f for f in reversed(frames[:-1]) if "importlib" not in f))
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

        sys.meta_path.insert(0, NotInstalled())
        from fastapi.testclient import TestClient
        from app.fastapi_app import app
        from bankchurn.schema import EXAMPLE_CUSTOMER
        with TestClient(app) as client:
            deadline = time.monotonic() + 60
            while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.05)
            status = client.post("/predict", json=EXAMPLE_CUSTOMER).status_code
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        print(json.dumps({"status": status, "loaded": loaded, "callers": sorted(set(callers))}))
        """
    )

    assert result["status"] == 200
    assert result["loaded"] == []
    ours = [
        c
        for c in result["callers"]
        if c.startswith((str(REPO_ROOT / "app"), str(REPO_ROOT / "src")))
    ]
    assert ours == []
