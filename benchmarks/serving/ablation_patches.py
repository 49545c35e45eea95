"""The ablation's stand-ins: the functions put in place of a layer for a variant's runs.

Each is for the benchmark's valid customers only (benchmarks.serving.ablation): it skips a
check or a computation, so it must never serve anything else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import fastapi.dependencies.utils as fastapi_dependencies
from pydantic import BaseModel

import app.routes.predict as predict_route
from app.json_body import parse_json_counting_strings
from app.schemas import BatchRequest, PredictRequest
from app.scoring import Scores

# A thing the variant does during its runs (and undoes after): replace a function.
Patch = Callable[[], contextlib.AbstractContextManager[None]]


def replaced(name: str, replacement: Any, owner: Any = predict_route) -> Patch:
    """``owner.name`` (a module's function or a class's method) is ``replacement`` meanwhile."""

    @contextlib.contextmanager
    def patch() -> Iterator[None]:
        original = getattr(owner, name)
        setattr(owner, name, replacement)
        try:
            yield
        finally:
            setattr(owner, name, original)

    return patch


def both(*patches: Patch) -> Patch:
    @contextlib.contextmanager
    def patch() -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for each in patches:
                stack.enter_context(each())
            yield

    return patch


_validate_field = fastapi_dependencies._validate_value_with_model_field


def _built_unchecked(request_model: Any, document: Any) -> BaseModel:
    if request_model is BatchRequest:
        customers = [PredictRequest.model_construct(**c) for c in document["customers"]]
        return BatchRequest.model_construct(customers=customers)
    return PredictRequest.model_construct(**document)


def unvalidated_route_body(
    *, field: Any, value: Any, values: Any, loc: Any
) -> tuple[Any, list[Any]]:
    """FastAPI's check of one parameter, except the request bodies: built as sent, unchecked
    (the benchmark's customers are valid, so scoring sees the same values)."""
    kind = field.field_info.annotation
    if kind in (PredictRequest, BatchRequest):
        return _built_unchecked(kind, value), []
    return _validate_field(field=field, value=value, values=values, loc=loc)


def unvalidated_fast_path_body(answer: Any, body: bytes, settings: Any) -> BaseModel | None:
    """The fast path's parse_body without the validation: parsed and counted as there, then
    built as sent, unchecked."""
    document, strings = parse_json_counting_strings(body)
    parsed = _built_unchecked(answer.request_model, document)
    return parsed if answer.strings(parsed, settings) == strings else None


def without_validation(fast_path: Any) -> Patch:
    """Request bodies built unchecked both where the fast path and where FastAPI reads them."""
    return both(
        replaced("parse_body", unvalidated_fast_path_body, fast_path),
        replaced("_validate_value_with_model_field", unvalidated_route_body, fastapi_dependencies),
    )


class FixedScore:
    """``score`` without the model: the scores of the first real call, every time."""

    def __init__(self) -> None:
        self.answer: Scores | None = None
        self.real = getattr(predict_route, "score")  # noqa: B009 (its import, not an export)

    async def __call__(self, model: Any, customers: Any, metrics: Any, **options: Any) -> Any:
        if self.answer is None or len(self.answer.ids) != len(customers):
            self.answer = await self.real(model, customers, metrics, **options)
        return self.answer


def _constant(_: Any) -> bytes:
    return b'{"ablated":true}'


def constant_answers() -> Patch:
    """A constant body instead of the answer's JSON, one customer or a batch."""
    return both(
        replaced("single_json", _constant, Scores), replaced("batch_json", _constant, Scores)
    )
