"""The prediction routes' fast path: ordinary requests answered without FastAPI's per-request work.

Profiled in-process, a single-row ``POST /predict`` spent about half its time in FastAPI and
Starlette before and around the endpoint: the exception and exit-stack middleware, routing,
the route wrappers, dependency resolution, and a ``Request`` around the body
(docs/performance.md). None of it is needed to answer a request that is in order, so this
pure ASGI layer, the innermost of the service's middleware, answers those itself: every
middleware outside it (request id, access log, drain, HTTP metrics, CORS, body timeout,
in-flight limit, body size limit) runs as before, and the scoring, metrics and the bytes of
the answer are the routes' own (``app.routes.predict``).

A request is ordinary when it is a ``POST /predict`` or ``POST /predict/batch`` without a
query string (reason codes, ``?explain=true``, take the route), with a JSON Content-Type, an
accepted API key if keys are on, a ready model, a body that parses with each key once and
validates against the route's model, and a batch within ``BANKCHURN_MAX_BATCH``. Anything
else goes to the FastAPI route, with the body bytes already read (or the error reading them
raised) replayed, so that every answer but a 200 still comes from the one place that makes
it, in its one shape. ``BANKCHURN_PREDICT_FAST_PATH=false`` sends everything the FastAPI way;
tests/api/test_predict_fast_path.py holds both ways to the same answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api_keys import key_accepted
from app.dependencies import Scoring
from app.json_body import is_json, parse_json_counting_strings
from app.routes.predict import batch_answer, single_answer
from app.schemas import BatchRequest, PredictRequest
from bankchurn.schema import FEATURES, CategoricalFeature

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from fastapi import FastAPI

    from app.settings import Settings

# A validated customer's string values: its categories and, when given, its id. Every other
# field is a number (strict validation refuses "42").
_CATEGORIES = sum(isinstance(feature, CategoricalFeature) for feature in FEATURES)


def _customer_strings(customer: PredictRequest) -> int:
    """The strings of the JSON object a customer was validated from, each key given once."""
    return len(customer.model_fields_set) + _CATEGORIES + (customer.id is not None)


def _single_strings(customer: PredictRequest, _: Settings) -> int | None:
    return _customer_strings(customer)


def _batch_strings(batch: BatchRequest, settings: Settings) -> int | None:
    """None for a batch over BANKCHURN_MAX_BATCH: the route refuses it (413)."""
    if len(batch.customers) > settings.max_batch:
        return None
    return 1 + sum(map(_customer_strings, batch.customers))  # 1: the key "customers"


class _Answer(NamedTuple):
    request_model: type[BaseModel]
    # The strings the body must hold if no key was repeated; None: the route answers.
    strings: Callable[[Any, Settings], int | None]
    respond: Callable[[Scoring, Any], Awaitable[bytes]]


_ANSWERS: dict[str, _Answer] = {
    "/predict": _Answer(PredictRequest, _single_strings, single_answer),
    "/predict/batch": _Answer(BatchRequest, _batch_strings, batch_answer),
}
_JSON_HEADERS = (b"content-type", b"application/json")


class PredictFastPath:
    """Answer ordinary prediction requests here, hand the rest on (see the module docstring).

    ``service`` is the FastAPI app whose state (settings, model, metrics, API keys) and
    dependency overrides apply: a test that overrides a dependency gets the FastAPI path.
    """

    def __init__(self, app: ASGIApp, service: FastAPI) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = _ANSWERS.get(scope["path"]) if scope["type"] == "http" else None
        if (
            answer is None
            or scope["method"] != "POST"
            or scope["query_string"]
            or scope.get("root_path")
            or self.service.dependency_overrides
        ):
            await self.app(scope, receive, send)
            return
        state = self.service.state
        model = state.model_state.model
        if model is None or not self._headers_in_order(scope, state.api_key_hashes):
            await self.app(scope, receive, send)
            return
        replay = _Replay(receive)
        body = await replay.read_body()
        parsed = parse_body(answer, body, state.settings)
        if parsed is None:
            # Not JSON, maybe a key given twice, invalid, or a batch too large: the route says
            # what was wrong. A body that did not arrive (timeout, too large, overloaded) goes
            # the same way, raising there.
            await self.app(scope, replay, send)
            return
        content = await answer.respond(Scoring(model, state.settings, state.metrics), parsed)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                # Starlette's Response sends these two, in this order: the same bytes either way.
                "headers": [(b"content-length", str(len(content)).encode()), _JSON_HEADERS],
            }
        )
        await send({"type": "http.response.body", "body": content})

    @staticmethod
    def _headers_in_order(scope: Scope, accepted_keys: frozenset[str]) -> bool:
        """A JSON Content-Type and, with API keys on, an accepted ``Authorization: Bearer`` key."""
        content_type = authorization = None
        for name, value in scope["headers"]:
            # The first of a repeated header counts, as with starlette's Headers.get.
            if name == b"content-type" and content_type is None:
                content_type = value.decode("latin-1")
            elif name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
        if not is_json(content_type):
            return False
        if not accepted_keys:
            return True
        # fastapi.security.HTTPBearer's reading of the header: scheme, one space, credentials.
        scheme, _, credentials = (authorization or "").partition(" ")
        return (
            scheme.lower() == "bearer"
            and bool(credentials)
            and key_accepted(credentials, accepted_keys)
        )


def parse_body(answer: _Answer, body: bytes, settings: Settings) -> BaseModel | None:
    """The body as the route would have it (JSON with each key once, validated, strict), or
    None if the route must answer.

    No repeated key is proven by counting: a validated document holds a known number of
    strings (its keys and string values), and one with a key repeated holds more.
    """
    try:
        document, strings = parse_json_counting_strings(body)
        parsed = answer.request_model.model_validate(document)
    except (ValueError, ValidationError):  # orjson's errors are ValueErrors
        return None
    return parsed if answer.strings(parsed, settings) == strings else None


class _Replay:
    """The request's ``receive``, recorded while the fast path reads the body, so the route
    can be handed the same messages (and the same error, if reading one raised) afterwards."""

    __slots__ = ("_error", "_messages", "_read", "_receive")

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._messages: list[Message] = []
        self._error: Exception | None = None
        self._read = 0

    async def read_body(self) -> bytes:
        """The whole body; b"" (for the route to refuse) if the client left or reading it failed."""
        chunks = []
        while True:
            try:
                message = await self._receive()
            except Exception as error:
                self._error = error
                return b""
            self._messages.append(message)
            if message["type"] != "http.request":
                return b""
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def __call__(self) -> Message:
        if self._read < len(self._messages):
            self._read += 1
            return self._messages[self._read - 1]
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return await self._receive()
