"""Optional API keys: off by default; when configured, Bearer keys on the scoring and model
routes, two keys for rotation, constant-time comparison, 401 in each protocol's shape.
(The key never reaching a real server's log: test_v2_client.py.)"""

from __future__ import annotations

import hashlib
import hmac
import re
import subprocess

import pytest

from app import api_keys
from app.settings import Settings, SettingsError, get_settings
from tests.api.v2_requests import INFER, customers, v2_body
from tooling.paths import REPO_ROOT

KEY = "k3y-for-tests-0123456789abcdef"
NEXT_KEY = "next-k3y-for-the-rotation"
REPO_DOCS = REPO_ROOT / "docs" / "api-keys.md"


def _sha256(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keyed(make_client):
    return make_client(api_key_hashes=(_sha256(KEY), _sha256(NEXT_KEY)))


def _protected(customer):
    return [
        ("POST", "/predict", {"json": customer}),
        ("POST", "/predict/batch", {"json": {"customers": [customer]}}),
        ("GET", "/model", {}),
        ("GET", "/v2/models/bankchurn", {}),
        ("POST", INFER, {"json": v2_body(customers(1))}),
    ]


OPEN = ["/health", "/ready", "/metrics", "/v2/health/live", "/v2/health/ready",
        "/v2/models/bankchurn/ready", "/v2", "/openapi.json", "/docs"]  # fmt: skip


def test_keys_are_off_by_default(client, customer):
    for method, path, kwargs in _protected(customer):
        assert client.request(method, path, **kwargs).status_code == 200, path


def test_without_a_key_the_protected_routes_answer_401_with_a_bearer_challenge(keyed, customer):
    for method, path, kwargs in _protected(customer):
        response = keyed.request(method, path, **kwargs)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == 'Bearer realm="bankchurn"'
        body = response.json()
        if path.startswith("/v2"):
            assert body == {"error": "This endpoint requires an API key: send the header "
                            "Authorization: Bearer <key>."}  # fmt: skip
        else:
            assert body["error"]["code"] == "unauthorized"
            assert "Authorization: Bearer <key>" in body["error"]["message"]


@pytest.mark.parametrize(
    "headers",
    [
        _bearer("wrong"),
        _bearer(KEY + "x"),
        _bearer(_sha256(KEY)),
        {"Authorization": f"Basic {KEY}"},
    ],
    ids=["unknown", "longer", "the-hash-itself", "not-bearer"],
)
def test_a_key_that_is_not_accepted_is_401(keyed, customer, headers):
    response = keyed.post("/predict", json=customer, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_either_of_two_keys_is_accepted_so_a_key_can_be_rotated(keyed, customer):
    for key in (KEY, NEXT_KEY):
        for method, path, kwargs in _protected(customer):
            response = keyed.request(method, path, headers=_bearer(key), **kwargs)
            assert response.status_code == 200, (key, path, response.text)


def test_health_readiness_metrics_and_docs_stay_open(keyed):
    for path in OPEN:
        assert keyed.get(path).status_code == 200, path


def test_the_comparison_is_hmac_compare_digest_against_every_hash(keyed, customer, monkeypatch):
    calls: list[tuple[str, str]] = []
    compare = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(api_keys.hmac, "compare_digest", spy)

    assert keyed.post("/predict", json=customer, headers=_bearer(KEY)).status_code == 200
    # Both digests compared, although the first one matched: no early exit.
    assert sorted(calls) == sorted(
        [(_sha256(KEY), _sha256(KEY)), (_sha256(KEY), _sha256(NEXT_KEY))]
    )
    calls.clear()
    assert keyed.post("/predict", json=customer, headers=_bearer("wrong")).status_code == 401
    # Against both hashes, each time the key is checked: by the fast path
    # (app/predict_fast_path.py), then by the route that answers the 401.
    assert sorted(set(calls)) == sorted(
        [(_sha256("wrong"), _sha256(KEY)), (_sha256("wrong"), _sha256(NEXT_KEY))]
    )
    assert len(calls) == 4


def test_hashes_come_from_the_environment_and_a_secret_file(tmp_path, monkeypatch):
    secret = tmp_path / "api-key-hashes"
    secret.write_text(f"# current key\n{_sha256(NEXT_KEY).upper()}\n\n")
    monkeypatch.setenv("BANKCHURN_API_KEY_HASHES", f" {_sha256(KEY)} ,")
    monkeypatch.setenv("BANKCHURN_API_KEY_HASHES_FILE", str(secret))

    settings = get_settings()

    assert settings.accepted_key_hashes() == {_sha256(KEY), _sha256(NEXT_KEY)}


def test_a_file_alone_turns_keys_on(make_client, tmp_path, customer):
    secret = tmp_path / "hashes"
    secret.write_text(_sha256(KEY) + "\n")
    client = make_client(api_key_hashes_file=secret)
    assert client.post("/predict", json=customer).status_code == 401
    assert client.post("/predict", json=customer, headers=_bearer(KEY)).status_code == 200


@pytest.mark.parametrize("variable", ["BANKCHURN_API_KEY_HASHES", "file"])
def test_a_plain_key_configured_by_mistake_is_refused_without_being_echoed(
    variable, tmp_path, monkeypatch
):
    if variable == "file":
        secret = tmp_path / "hashes"
        secret.write_text(f"# ok\n{_sha256(KEY)}\n{KEY}\n")
        monkeypatch.setenv("BANKCHURN_API_KEY_HASHES_FILE", str(secret))
        where = "the file line 3"
    else:
        monkeypatch.setenv(variable, f"{_sha256(KEY)},{KEY}")
        where = "the value line 1"

    with pytest.raises(SettingsError) as refused:
        get_settings()

    assert KEY not in str(refused.value)
    assert where in str(refused.value)
    assert "is not a sha256 hex digest" in str(refused.value)


def test_an_unreadable_hashes_file_is_refused_at_start_up(tmp_path, monkeypatch):
    monkeypatch.setenv("BANKCHURN_API_KEY_HASHES_FILE", str(tmp_path / "absent"))
    with pytest.raises(SettingsError, match="cannot read the API key hashes file"):
        get_settings()


def test_the_documented_one_liner_gives_the_digest_the_service_compares():
    docs = REPO_DOCS.read_text(encoding="utf-8")
    [command] = re.findall(r"^printf %s \"\$KEY\" \| sha256sum \| cut -d' ' -f1$", docs, re.M)
    digest = subprocess.run(["sh", "-c", command], env={"KEY": KEY, "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert digest == api_keys.hash_key(KEY) == _sha256(KEY)
    assert Settings(api_key_hashes=(digest,)).accepted_key_hashes() == {digest}


def test_openapi_declares_the_bearer_scheme_on_the_protected_routes(keyed):
    document = keyed.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["api_key"]["scheme"] == "bearer"
    assert document["paths"]["/predict"]["post"]["security"] == [{"api_key": []}]
    assert "security" not in document["paths"]["/health"]["get"]
    assert "401" in document["paths"]["/model"]["get"]["responses"]


def test_with_keys_off_the_openapi_document_asks_for_none(client):
    document = client.get("/openapi.json").json()
    assert "securitySchemes" not in document.get("components", {})
    assert "security" not in document["paths"]["/predict"]["post"]
