"""Service configuration: one typed ``Settings``, read from ``BANKCHURN_*`` variables.

Every knob of the service lives here and nowhere else. ``get_settings`` is cached so
the environment is read once per process; tests build their own ``Settings`` and pass
it to ``create_app`` (or call ``get_settings.cache_clear()`` after changing the env).
Server knobs (host, port, workers) are uvicorn's own command-line flags.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bankchurn.predictor import Backend

ENV_PREFIX = "BANKCHURN_"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# Values never echoed in a configuration error: a plain key pasted by mistake stays unlogged.
_SECRET_FIELDS = frozenset({"api_key_hashes"})


def parse_key_hashes(text: str, source: str) -> tuple[str, ...]:
    """sha256 hex digests, one per line or comma-separated; blank lines and # comments skipped.

    Raises ValueError naming the line (never its content: it may be a key by mistake)."""
    hashes: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for part in line.split("#", 1)[0].split(","):
            value = part.strip().lower()
            if value and not _SHA256_HEX.match(value):
                raise ValueError(
                    f"{source} line {number} is not a sha256 hex digest (64 characters 0-9a-f); "
                    "write the hash of each key, never the key: "
                    'printf %s "$KEY" | sha256sum'
                )
            if value:
                hashes.append(value)
    return tuple(hashes)


class SettingsError(RuntimeError):
    """The environment holds a value the service refuses to start with."""


class Settings(BaseSettings):
    """Everything the service can be told; each field is ``BANKCHURN_<FIELD NAME>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    model_dir: Path = Field(
        Path("models"),
        description="Folder holding model_card.json and the model artifact; a relative "
        "path is resolved against the working directory.",
    )
    backend: Backend = Field(
        "sklearn",
        description="Inference backend: sklearn (model.joblib) or onnx (model.onnx in "
        "onnxruntime, which needs neither scikit-learn nor scipy).",
    )
    inference_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="Threads for one prediction, per worker process: OpenMP threads for "
        "sklearn, onnxruntime intra-op threads for onnx.",
    )
    max_batch: int = Field(
        1_000, ge=1, le=100_000, description="Most customers accepted by /predict/batch."
    )
    # 1,024 model rows per explained customer: the cap bounds one request's model time.
    max_explain_batch: int = Field(
        100,
        ge=1,
        le=1_000,
        description="Most customers explained in one request (?explain=true); 413 above.",
    )
    max_body_bytes: int = Field(
        1_048_576,
        ge=1_024,
        le=104_857_600,
        description="Largest request body accepted, counted on the received stream.",
    )
    threshold: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="Churn decision threshold overriding the model card's; unset = card's.",
    )
    model_poll_seconds: float = Field(
        0.0,
        ge=0.0,
        le=3_600.0,
        description="Seconds between checks of the model folder for a new model (each worker "
        "checks on its own; a verified candidate replaces the served model without a "
        "restart); 0 (the default) = never, SIGHUP still asks for a check.",
    )
    log_level: LogLevel = Field("INFO", description="Level of the service's own loggers.")
    log_format: Literal["json", "text"] = Field("json", description="JSON lines or plain text.")
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Comma-separated origins allowed by CORS; empty (the default) = closed.",
    )
    # The two layers a deployment may already have elsewhere (a mesh or ingress that logs and
    # counts every request); both on by default, and off only by these documented settings.
    access_log: bool = Field(
        True,
        description="Write one JSON access log line per request (request id, route, status, "
        "latency); request ids are given and echoed either way.",
    )
    http_metrics: bool = Field(
        True,
        description="Record http_requests_total and http_request_duration_seconds per route "
        "template; the model metrics are recorded either way.",
    )
    opentelemetry: bool = Field(
        False,
        description="FastAPI's native OpenTelemetry (traces, metrics, logs to the globally "
        "configured providers): needs an OpenTelemetry SDK, which this service does not ship. "
        "Off, FastAPI skips its check for configured providers on every request.",
    )
    predict_fast_path: bool = Field(
        True,
        description="Answer ordinary POST /predict and /predict/batch requests before FastAPI's "
        "routing and dependency resolution (same answers, about half the app's cost per "
        "request: docs/performance.md); false sends every request the FastAPI way.",
    )
    log_features: bool = Field(
        False, description="Log each scored customer's features (personal data; off by default)."
    )
    # Shutdown and slow clients (docs/reliability.md says how these add up to the
    # orchestrators' grace periods). All per worker process.
    drain_seconds: float = Field(
        5.0,
        ge=0.0,
        le=60.0,
        description="After SIGTERM: seconds to keep answering (with Connection: close, /ready "
        "503) before closing idle connections and finishing what was received.",
    )
    header_timeout_seconds: float = Field(
        10.0,
        gt=0.0,
        le=300.0,
        description="Most seconds a client may take to send a request's headers (from its "
        "connection or its first byte); then 408 and the connection is closed.",
    )
    body_timeout_seconds: float = Field(
        30.0,
        gt=0.0,
        le=600.0,
        description="Most seconds a client may take to send a request's body once its "
        "headers arrived; then 408 and the connection is closed.",
    )
    max_connections: int = Field(
        1_024,
        ge=1,
        le=65_536,
        description="Open connections per worker; one more is answered 503 with Retry-After "
        "and closed.",
    )
    max_requests_in_flight: int = Field(
        64,
        ge=1,
        le=10_000,
        description="Requests with a body being processed at once per worker (bodies still "
        "arriving are bounded by the timeouts instead); one more is 503 with Retry-After.",
    )

    # API keys (app/api_keys.py): off unless one of these names a hash; both may be set.
    api_key_hashes: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Comma-separated sha256 hex digests of the accepted API keys (two for a "
        "rotation); empty (the default) with no file = no key required.",
    )
    api_key_hashes_file: Path | None = Field(
        None,
        description="A file of sha256 hex digests of accepted API keys, one per line (# comments "
        "allowed), e.g. a mounted secret; read once at start-up.",
    )

    @field_validator("api_key_hashes", mode="before")
    @classmethod
    def _parse_hashes(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_key_hashes(value, "the value")
        return value

    @field_validator("api_key_hashes")
    @classmethod
    def _check_hashes(cls, hashes: tuple[str, ...]) -> tuple[str, ...]:
        return parse_key_hashes("\n".join(hashes), "the value")

    @field_validator("api_key_hashes_file")
    @classmethod
    def _check_hashes_file(cls, path: Path | None) -> Path | None:
        if path is not None:
            _read_hashes_file(path)
        return path

    def accepted_key_hashes(self) -> frozenset[str]:
        """Every configured key hash (variable and file); empty = API keys are off."""
        from_file = _read_hashes_file(self.api_key_hashes_file) if self.api_key_hashes_file else ()
        return frozenset((*self.api_key_hashes, *from_file))

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if origin != "*" and not _ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin; write scheme://host[:port] with no path "
                    "or trailing slash, e.g. https://dashboard.example.com"
                )
        return origins


def _read_hashes_file(path: Path) -> tuple[str, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(
            f"cannot read the API key hashes file {str(path)!r} ({type(error).__name__}); "
            "mount it readable by the service's user, or unset the variable"
        ) from None
    return parse_key_hashes(text, "the file")


def describe(error: ValidationError) -> str:
    """One line per refused value, each naming the environment variable to fix."""
    lines = []
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "?"
        shown = "(value not shown)" if field in _SECRET_FIELDS else repr(item["input"])
        lines.append(f"{ENV_PREFIX}{field.upper()}={shown}: {item['msg']}")
    return "invalid service configuration:\n  " + "\n  ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once; refuses unsafe values."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(describe(error)) from None
