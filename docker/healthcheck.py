"""Container HEALTHCHECK probe: exit 0 when GET /ready answers 200, 1 otherwise.

Standard library only, so it runs in images without curl or a shell (slim, distroless):
Dockerfiles call it in exec form, e.g. ``HEALTHCHECK CMD ["python", "/app/healthcheck.py"]``.
It probes readiness, not liveness: "healthy" then means "serves predictions", which is
what ``depends_on: condition: service_healthy`` waits for. The port is uvicorn's
``--port``; change ``BANKCHURN_HEALTHCHECK_URL`` if you change it.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

URL = os.environ.get("BANKCHURN_HEALTHCHECK_URL", "http://127.0.0.1:8000/ready")
TIMEOUT_SECONDS = 3.0


def main() -> int:
    try:
        with urllib.request.urlopen(URL, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (fixed loopback URL)
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:  # 503 while loading lands here too
        print(f"healthcheck: {URL}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
