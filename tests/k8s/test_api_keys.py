"""components/api-keys: the API key digests reach the API as a file from a Secret, in the
overlay that asks for them only; the default deployments stay keyless and probes stay open."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from app.fastapi_app import create_app
from app.settings import Settings
from tests.k8s.k8stools import DEPLOYABLES, Manifest, container, env, pod_spec, render, the
from tooling.net import wait_until
from tooling.paths import MODEL_DIR

KEYED = "overlays/production-api-keys"


def _status_without_a_key(paths: set[str]) -> dict[str, int]:
    """What an app with API keys on answers each path when no key is sent (once ready)."""
    settings = Settings(model_dir=MODEL_DIR, api_key_hashes=(hashlib.sha256(b"k").hexdigest(),))
    app = create_app(settings, registry=CollectorRegistry())
    with TestClient(app) as client:
        wait_until(
            lambda: client.get("/ready").status_code == 200 or None, timeout=30, interval=0.05
        )
        return {path: client.get(path).status_code for path in sorted(paths)}


def test_only_the_keyed_overlay_reads_key_digests(rendered: dict[str, list[Manifest]]) -> None:
    for name in DEPLOYABLES:
        variables = env(container(rendered[name]))
        assert ("BANKCHURN_API_KEY_HASHES_FILE" in variables) == (name == KEYED), name
        assert "BANKCHURN_API_KEY_HASHES" not in variables, "digests come from the Secret file"


def test_the_digests_file_is_the_secrets_key_mounted_read_only() -> None:
    objects = render(DEPLOYABLES[KEYED])
    api = container(objects)
    path = env(api)["BANKCHURN_API_KEY_HASHES_FILE"]
    [mount] = [m for m in api["volumeMounts"] if m["name"] == "api-keys"]
    assert mount["readOnly"] is True
    [volume] = [v for v in pod_spec(objects)["volumes"] if v["name"] == "api-keys"]
    secret = volume["secret"]
    assert secret["secretName"] == "bankchurn-api-keys"
    assert "optional" not in secret  # no Secret, no pod: never an open deployment by mistake
    [item] = secret["items"]
    assert f"{mount['mountPath']}/{item['path']}" == path
    assert the(objects, "Namespace")["metadata"]["name"] == "bankchurn"


def test_the_probes_and_the_scrape_need_no_key() -> None:
    objects = render(DEPLOYABLES[KEYED])
    api = container(objects)
    probed = {api[probe]["httpGet"]["path"] for probe in ("startupProbe", "readinessProbe",
                                                          "livenessProbe")}  # fmt: skip
    scraped = {e["path"] for e in the(objects, "ServiceMonitor")["spec"]["endpoints"]}
    assert _status_without_a_key(probed | scraped) == dict.fromkeys(sorted(probed | scraped), 200)
