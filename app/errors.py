"""Errors: one JSON shape (``ErrorResponse``) for every 4xx and 5xx the service sends.

Validation errors keep pydantic's ``loc``/``msg``/``type`` but never its ``input``:
echoing the input would copy a whole customer record into responses (and whatever
logs them). A 500 says nothing about the exception; the request id ties it to the
traceback in the service log. ``handle_unexpected`` is the service's only catch-all.

Under ``/v2`` (the Open Inference Protocol, app/routes/v2.py) the same errors take that
protocol's shape, ``{"error": "<what, where and what to do>"}``, with the details written
into the string, and an invalid request is 400 there, as the protocol says, not 422.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.log import error_logger
from app.schemas import ErrorBody, ErrorDetail, ErrorResponse
from app.v2_schemas import V2ErrorResponse

REQUEST_ID_HEADER = "X-Request-ID"
UNKNOWN_REQUEST_ID = "unknown"
# At most this many problems are written into one Open Inference Protocol error string.
MAX_LISTED_DETAILS = 20

# Codes for the HTTP errors Starlette/FastAPI raise themselves (routing, body limit).
_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
OPEN_INFERENCE_PREFIX = "/v2"


class ApiError(Exception):
    """An error the service reports on purpose, with its status and stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Sequence[ErrorDetail] = (),
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details)
        self.reason = reason
        self.headers = headers or {}


class BatchTooLargeError(ApiError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            413,
            "batch_too_large",
            f"The batch has {size} customers; at most {limit} are accepted per request. "
            "Split it into smaller batches.",
            details=[
                ErrorDetail(
                    loc=["body", "customers"],
                    msg=f"List should have at most {limit} items, not {size}",
                    type="too_long",
                )
            ],
        )


class RequestBodyError(StarletteHTTPException):
    """A body refused while it is parsed, with a stable code and the details of where.

    An HTTPException because FastAPI re-raises those from body parsing (any other
    exception there becomes its generic 400).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Sequence[ErrorDetail] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, headers=headers)
        self.code = code
        self.details = list(details)


class PayloadTooLargeError(StarletteHTTPException):
    """Raised from the body stream: FastAPI re-raises HTTPExceptions from body reading."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, payload_too_large_message(limit))


_DESCRIPTIONS = {
    400: "The body could not be read as JSON text (for example, it is not UTF-8).",
    401: "An API key is configured and the request's Authorization: Bearer key is missing or "
    "not accepted (WWW-Authenticate: Bearer).",
    413: "The body is larger than BANKCHURN_MAX_BODY_BYTES, or the batch has more "
    "customers than BANKCHURN_MAX_BATCH.",
    415: "The body is not sent as application/json.",
    422: "The request is invalid: each detail names a field (loc) and what is wrong with it "
    "(a key given twice in one object included).",
    500: "An unexpected fault; the body carries only a request id to find it in the log.",
    503: "The model is not ready (error.reason says why: loading, checksum_mismatch, "
    "shutting_down, ...), or the worker is at its request limit (overloaded, Retry-After).",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses, all with ``ErrorResponse``."""
    return {
        status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]}
        for status in statuses
    }


def payload_too_large_message(limit: int) -> str:
    return f"Request body is larger than the limit of {limit} bytes; send smaller batches."


def new_request_id() -> str:
    """32 random hex digits, the shape of a uuid4's hex, without building a UUID (a quarter
    of the cost, on every request that brings no id of its own)."""
    return os.urandom(16).hex()


def request_id_of(scope_state: dict[str, Any]) -> str:
    return str(scope_state.get("request_id", UNKNOWN_REQUEST_ID))


def is_open_inference(path: str) -> bool:
    """True for the paths of the Open Inference Protocol, whose errors have its shape."""
    return path == OPEN_INFERENCE_PREFIX or path.startswith(OPEN_INFERENCE_PREFIX + "/")


def _where(loc: Sequence[str | int]) -> str:
    """["body", "inputs", 3, "data", 1] -> "inputs[3].data[1]"."""
    text = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "body"


def open_inference_text(message: str, details: Sequence[ErrorDetail]) -> str:
    """The protocol's one error string: the message, then each problem with where it is."""
    listed = [f"{_where(d.loc)}: {d.msg}" for d in details[:MAX_LISTED_DETAILS]]
    if len(details) > MAX_LISTED_DETAILS:
        listed.append(f"and {len(details) - MAX_LISTED_DETAILS} more")
    return " ".join([message, "; ".join(listed)]) if listed else message


def error_response(
    request_id: str,
    status: int,
    code: str,
    message: str,
    *,
    details: Sequence[ErrorDetail] = (),
    reason: str | None = None,
    headers: dict[str, str] | None = None,
    open_inference: bool = False,
) -> JSONResponse:
    headers = {**(headers or {}), REQUEST_ID_HEADER: request_id}
    if open_inference:
        return JSONResponse(
            V2ErrorResponse(error=open_inference_text(message, details)).model_dump(),
            status_code=400 if status == 422 else status,
            headers=headers,
        )
    body = ErrorResponse(
        error=ErrorBody(
            code=code,
            message=message,
            request_id=request_id,
            reason=reason,
            details=list(details),
        )
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _request_id(request: Request) -> str:
    return request_id_of(request.scope.get("state", {}))


def _v2(request: Request) -> bool:
    return is_open_inference(request.url.path)


def _detail(error: dict[str, Any]) -> ErrorDetail:
    return ErrorDetail(loc=list(error["loc"]), msg=error["msg"], type=error["type"])


async def handle_api_error(request: Request, error: ApiError) -> JSONResponse:
    return error_response(
        _request_id(request),
        error.status,
        error.code,
        error.message,
        details=error.details,
        reason=error.reason,
        headers=error.headers,
        open_inference=_v2(request),
    )


async def handle_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    details = [_detail(item) for item in error.errors()]
    where = ":" if _v2(request) else "; see details for where."
    return error_response(
        _request_id(request),
        422,
        "validation_error",
        f"The request is invalid ({len(details)} problem(s)){where}",
        details=details,
        open_inference=_v2(request),
    )


async def handle_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    if isinstance(error, RequestBodyError):
        return error_response(
            _request_id(request),
            error.status_code,
            error.code,
            error.detail,
            details=error.details,
            headers=dict(error.headers or {}),
            open_inference=_v2(request),
        )
    phrase = HTTPStatus(error.status_code).phrase
    message = error.detail if isinstance(error.detail, str) else phrase
    return error_response(
        _request_id(request),
        error.status_code,
        _HTTP_CODES.get(error.status_code, phrase.lower().replace(" ", "_")),
        message,
        headers=dict(error.headers or {}),
        open_inference=_v2(request),
    )


async def handle_unexpected(request: Request, error: Exception) -> JSONResponse:
    """The only catch-all: log the fault with its traceback, answer without details."""
    request_id = _request_id(request)
    error_logger.error(
        "unhandled error",
        exc_info=error,
        extra={"request_id": request_id, "method": request.method, "path": request.url.path},
    )
    return error_response(
        request_id,
        500,
        "internal_error",
        "The service failed to handle this request. Quote the request id when reporting it.",
        open_inference=_v2(request),
    )


def install_error_handlers(app: FastAPI) -> None:
    app.exception_handler(ApiError)(handle_api_error)
    app.exception_handler(RequestValidationError)(handle_validation_error)
    app.exception_handler(StarletteHTTPException)(handle_http_error)
    # Starlette runs the Exception handler in its outermost middleware, then re-raises
    # so the server logs the traceback as well.
    app.exception_handler(Exception)(handle_unexpected)
