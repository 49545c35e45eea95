"""/docs and /redoc make no request outside the server, seen from a real headless Chromium.

Chromium opens each page on a real uvicorn and writes every request it makes to a
NetLog (``--log-net-log``, JSON; no extra package). The server is reached under a
non-local name (``bankchurn.test``, mapped to 127.0.0.1): Swagger UI skips its online
validator for localhost, so only a real host name shows what a user's browser would do.
Every other name resolves to nothing, so nothing leaves the machine even if the page
tries. The page's own requests are those whose network isolation key is the page's
site and that the page itself initiated (the browser's own fetches carry another key
or no initiator); each must go to the server's origin.

Swagger UI's validator badge would call validator.swagger.io: the page turns it off
(``validatorUrl: null``). ReDoc always shows a logo from cdn.redoc.ly: the docs pages'
Content-Security-Policy keeps the browser from asking for it. A control page, FastAPI's
default ReDoc without that policy, proves the recorder sees such requests.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import fastapi_offline
import pytest
from fastapi.openapi.docs import get_redoc_html

from tests.api.uvicorn_server import Server

HOST = "bankchurn.test"
CONTROL_HOST = "control.test"
# Content the rendered pages must show: proof the scripts ran and loaded the OpenAPI document.
RENDERED = "Churn probability, decision and risk band for one customer"


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (Debian's package)")
    return found


def page_requests(url: str, scratch: Path) -> tuple[list[str], str]:
    """Open ``url`` in headless Chromium; return the URLs the page requested, and its DOM."""
    netlog = scratch / "netlog.json"
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",  # root in CI; the page is our own
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={scratch / 'profile'}",
        f"--log-net-log={netlog}",
        f"--host-resolver-rules=MAP {HOST} 127.0.0.1, MAP {CONTROL_HOST} 127.0.0.1, "
        "MAP * ~NOTFOUND",
        "--virtual-time-budget=10000",  # let the scripts run to completion, then dump
        "--dump-dom",
        url,
    ]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=90, check=True).stdout
    log = json.loads(netlog.read_text())
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    parts = urlsplit(url)
    site, origin = f"{parts.scheme}://{parts.hostname}", f"{parts.scheme}://{parts.netloc}"
    jobs = [
        event.get("params", {})
        for event in log["events"]
        if names[event["type"]] == "URL_REQUEST_START_JOB"
    ]
    # The page's requests: the navigation, and whatever the page itself initiated.
    # Chromium's own lookups about a page (autofill, page hints) say "not an origin".
    requested = [
        job["url"]
        for job in jobs
        if str(job.get("network_isolation_key", "")).startswith(site)
        and (job.get("request_type") == "main frame" or job.get("initiator") == origin)
    ]
    return requested, dom


def foreign(urls: list[str], origin: str) -> list[str]:
    return [u for u in urls if not u.startswith((f"{origin}/", "data:", "blob:"))]


@pytest.fixture
def docs_server(serve: Callable[..., Server]) -> Server:
    server = serve("--no-access-log")
    server.wait_for("/health", 200)
    return server


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_documentation_pages_request_nothing_outside_the_server(
    page: str, docs_server: Server, tmp_path: Path
) -> None:
    origin = f"http://{HOST}:{docs_server.port}"
    requested, dom = page_requests(origin + page, tmp_path)
    assert RENDERED in dom, dom[-2000:]
    assert f"{origin}/openapi.json" in requested, requested
    assert foreign(requested, origin) == [], requested


def test_swagger_page_turns_the_online_validator_off(docs_server: Server) -> None:
    response = docs_server.http.get("/docs")
    assert response.status_code == 200
    assert '"validatorUrl": null' in response.text
    assert "validator.swagger.io" not in response.text


class _Utf8Handler(http.server.SimpleHTTPRequestHandler):
    # Swagger UI's bundle is UTF-8; without a charset Chromium reads it as Latin-1.
    extensions_map: ClassVar[dict[str, str]] = {
        ".js": "text/javascript; charset=utf-8",
        ".json": "application/json",
    }

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet test output


@pytest.fixture
def control_page(docs_server: Server, tmp_path: Path) -> Iterator[str]:
    """ReDoc as FastAPI serves it by default (Google Fonts on), without this service's
    Content-Security-Policy, from a stdlib server: a page known to call out."""
    site = tmp_path / "control"
    shutil.copytree(Path(fastapi_offline.__file__).parent / "static", site / "static")
    (site / "openapi.json").write_bytes(docs_server.http.get("/openapi.json").content)
    html = get_redoc_html(
        openapi_url="/openapi.json",
        title="control",
        redoc_js_url="/static/redoc.standalone.js",
        redoc_favicon_url="/static/favicon.png",
    )
    (site / "redoc.html").write_bytes(html.body)
    handler = functools.partial(_Utf8Handler, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"http://{CONTROL_HOST}:{httpd.server_address[1]}"
        httpd.shutdown()


def test_the_recorder_sees_a_default_redoc_page_call_out(control_page: str, tmp_path: Path) -> None:
    requested, dom = page_requests(control_page + "/redoc.html", tmp_path)
    assert RENDERED in dom, dom[-2000:]
    outside = {urlsplit(u).hostname for u in foreign(requested, control_page)}
    assert {"fonts.googleapis.com", "cdn.redoc.ly"} <= outside, requested
