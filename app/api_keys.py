"""Optional API keys: ``Authorization: Bearer <key>`` on the routes that score or show the model.

Off unless ``BANKCHURN_API_KEY_HASHES`` and/or ``BANKCHURN_API_KEY_HASHES_FILE`` name at
least one key (app/settings.py). The service holds only sha256 digests, so no
configuration, image or manifest contains a key; a presented key is hashed and compared
with every accepted digest by ``hmac.compare_digest`` (constant time, and all of them, so
the timing tells neither how much of a digest matched nor which key it was). Two digests
at once let a key be rotated: add the new one, move the clients, remove the old one.
The key is never logged: the access log has no headers, and this module logs nothing.

Open without a key: /health, /ready, /metrics, /v2/health/*, /v2/models/*/ready and
GET /v2, so probes and Prometheus need no secret (docs/api-keys.md: closing /metrics).

Make a key and its digest (the digest is what the service is given):
    python -c "import secrets; print(secrets.token_urlsafe(32))"
    printf %s "$KEY" | sha256sum | cut -d' ' -f1
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.errors import ApiError

# auto_error=False: a missing header is this module's 401 in the service's error shape,
# not FastAPI's own. HTTPBearer also puts the scheme into the OpenAPI document.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="api_key",
    description="Required only when the service is configured with API key hashes "
    "(BANKCHURN_API_KEY_HASHES / BANKCHURN_API_KEY_HASHES_FILE).",
)
CHALLENGE = 'Bearer realm="bankchurn"'


def hash_key(key: str) -> str:
    """The sha256 hex digest the service is configured with for ``key``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_accepted(key: str, accepted: Iterable[str]) -> bool:
    """Whether ``key`` hashes to one of ``accepted``, comparing in constant time with each."""
    digest = hash_key(key)
    matched = False
    for expected in accepted:  # no early exit: every digest is compared
        matched |= hmac.compare_digest(digest, expected)
    return matched


class UnauthorizedError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, "unauthorized", message, headers={"WWW-Authenticate": CHALLENGE})


async def require_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Pass when API keys are off or the request carries an accepted key; 401 otherwise."""
    accepted: frozenset[str] = request.app.state.api_key_hashes
    if not accepted:
        return
    if credentials is None:
        raise UnauthorizedError(
            "This endpoint requires an API key: send the header Authorization: Bearer <key>."
        )
    if not key_accepted(credentials.credentials, accepted):
        raise UnauthorizedError(
            "The API key is not accepted (unknown, or rotated out); ask the service's "
            "operator for a current one."
        )


ApiKeyDep = Depends(require_api_key)


def document_only_when_on(app: FastAPI, keys_on: bool) -> None:
    """Keep the Bearer scheme out of the OpenAPI document when no key is configured: the
    document describes the service as it runs, and then no route asks for a key."""
    if keys_on:
        return
    generate = app.openapi

    def without_security() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for operations in document["paths"].values():
                for operation in operations.values():
                    operation.pop("security", None)
            document.get("components", {}).pop("securitySchemes", None)
        return app.openapi_schema or generate()

    # FastAPI's documented way to change the schema: replace app.openapi.
    app.openapi = without_security  # type: ignore[method-assign]
