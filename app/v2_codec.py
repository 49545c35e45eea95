"""Open Inference Protocol tensors <-> bankchurn customers, derived from bankchurn.schema.

The request is columnar, as MLServer documents for tabular models: one named input per
feature (the dataset's column name: ``CreditScore``, ``Geography``, ...), each of shape
``[n]`` (or ``[n, 1]``, as MLServer's pandas codec sends) holding that feature for n
customers. Each customer is then validated by the native API's ``PredictRequest``, so
both protocols accept and refuse exactly the same values; an error names the input and
the element (``inputs[3].data[1]``). Outputs are one tensor per answer field.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

from pydantic import ValidationError

from app.errors import ApiError
from app.schemas import ChurnPrediction, ErrorDetail, PredictRequest
from app.v2_schemas import (
    Datatype,
    InferenceRequest,
    RequestInput,
    ResponseOutput,
    TensorMetadata,
)
from bankchurn.schema import BY_COLUMN, BY_NAME, FEATURE_COLUMNS, CategoricalFeature, Feature

_INTEGERS: frozenset[str] = frozenset(
    ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
)
_FLOATS: frozenset[str] = frozenset(("FP16", "FP32", "FP64", "BF16"))


def declared_datatype(feature: Feature) -> Datatype:
    """What the model metadata announces for a feature."""
    if isinstance(feature, CategoricalFeature):
        return "BYTES"
    return "INT64" if feature.integer else "FP64"


def _accepted(feature: Feature) -> frozenset[str]:
    # Numbers in any numeric type (42.0 is a whole number, as in the native API);
    # categories only as strings.
    return frozenset(("BYTES",)) if isinstance(feature, CategoricalFeature) else _INTEGERS | _FLOATS


INPUTS: tuple[TensorMetadata, ...] = tuple(
    TensorMetadata(name=column, datatype=declared_datatype(BY_COLUMN[column]), shape=[-1])
    for column in FEATURE_COLUMNS
)
OUTPUTS: tuple[TensorMetadata, ...] = (
    TensorMetadata(name="churn_probability", datatype="FP64", shape=[-1]),
    TensorMetadata(name="churn", datatype="BOOL", shape=[-1]),
    TensorMetadata(name="risk_band", datatype="BYTES", shape=[-1]),
)
OUTPUT_NAMES: tuple[str, ...] = tuple(output.name for output in OUTPUTS)


class InvalidInferenceRequestError(ApiError):
    def __init__(self, problems: Sequence[ErrorDetail]) -> None:
        super().__init__(
            400,
            "invalid_inference_request",
            f"The inference request is invalid ({len(problems)} problem(s)):",
            details=problems,
        )


class InferenceBatchTooLargeError(ApiError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            413,
            "batch_too_large",
            f"The inputs hold {size} customers; at most {limit} are accepted per request "
            "(BANKCHURN_MAX_BATCH). Split them into smaller requests.",
        )


def _problem(loc: list[str | int], msg: str, kind: str) -> ErrorDetail:
    return ErrorDetail(loc=["body", *loc], msg=msg, type=kind)


def _flatten(data: list[Any]) -> list[Any]:
    """Row-major nested lists (the specification allows both forms) to one flat list."""
    if not any(isinstance(item, list) for item in data):
        return data
    return _flatten(list(chain.from_iterable(i if isinstance(i, list) else [i] for i in data)))


def _element_error(datatype: str, value: Any) -> str | None:
    """Why a JSON value cannot be an element of ``datatype``, or None."""
    if datatype == "BYTES":
        return None if isinstance(value, str) else "should be a string"
    if datatype in _INTEGERS:
        integer = isinstance(value, int) and not isinstance(value, bool)
        return None if integer else f"should be an integer of datatype {datatype}"
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return None if number else f"should be a number of datatype {datatype}"


def _column(index: int, tensor: RequestInput, problems: list[ErrorDetail]) -> list[Any] | None:
    """The values of one input, or None after recording why they cannot be read."""
    feature = BY_COLUMN[tensor.name]
    where: list[str | int] = ["inputs", index]
    if tensor.datatype not in _accepted(feature):
        problems.append(
            _problem(
                [*where, "datatype"],
                f"{tensor.name} is {tensor.datatype}; send it as {declared_datatype(feature)}",
                "datatype",
            )
        )
        return None
    shape = tensor.shape
    if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1) or shape[0] < 1:
        problems.append(
            _problem(
                [*where, "shape"],
                f"{tensor.name} has shape {shape}; send [n] or [n, 1] for n >= 1 customers",
                "shape",
            )
        )
        return None
    values = _flatten(tensor.data)
    if len(values) != shape[0]:
        problems.append(
            _problem(
                [*where, "data"],
                f"{tensor.name} has shape {shape} but {len(values)} values",
                "shape_mismatch",
            )
        )
        return None
    before = len(problems)
    for row, value in enumerate(values):
        if (why := _element_error(tensor.datatype, value)) is not None:
            problems.append(_problem([*where, "data", row], f"{tensor.name} {why}", "datatype"))
    return values if len(problems) == before else None


def _named_inputs(request: InferenceRequest) -> dict[str, tuple[int, RequestInput]]:
    problems: list[ErrorDetail] = []
    found: dict[str, tuple[int, RequestInput]] = {}
    expected = ", ".join(FEATURE_COLUMNS)
    for index, tensor in enumerate(request.inputs):
        if tensor.name not in BY_COLUMN:
            problems.append(
                _problem(
                    ["inputs", index, "name"],
                    f"{tensor.name!r} is not an input of this model; its inputs are {expected}",
                    "unknown_input",
                )
            )
        elif tensor.name in found:
            problems.append(
                _problem(
                    ["inputs", index, "name"], f"{tensor.name} is given twice", "duplicate_input"
                )
            )
        else:
            found[tensor.name] = (index, tensor)
    missing = [column for column in FEATURE_COLUMNS if column not in found]
    if missing:
        problems.append(
            _problem(["inputs"], f"missing input(s): {', '.join(missing)}", "missing_input")
        )
    for index, output in enumerate(request.outputs or ()):
        if output.name not in OUTPUT_NAMES:
            problems.append(
                _problem(
                    ["outputs", index, "name"],
                    f"{output.name!r} is not an output of this model; its outputs are "
                    f"{', '.join(OUTPUT_NAMES)}",
                    "unknown_output",
                )
            )
    if problems:
        raise InvalidInferenceRequestError(problems)
    return found


def _feature_message(column: str, msg: str) -> str:
    # pydantic says "Input should be ..."; name the feature instead.
    return f"{column} {msg[6:]}" if msg.startswith("Input ") else f"{column}: {msg}"


def _row_problem(item: Any, row: int, named: dict[str, tuple[int, RequestInput]]) -> ErrorDetail:
    """A PredictRequest error of customer ``row``, placed at its input and element. The record
    is keyed by column, so pydantic's loc names the column (the alias it was given)."""
    key = str(item["loc"][0]) if item["loc"] else ""
    feature = BY_COLUMN.get(key) or BY_NAME.get(key)
    if feature is None:  # not a feature's error: report it against the customer
        return _problem(["inputs", "data", row], item["msg"], item["type"])
    index = named[feature.column][0]
    message = _feature_message(feature.column, item["msg"])
    return _problem(["inputs", index, "data", row], message, item["type"])


def decode(request: InferenceRequest, max_batch: int) -> list[PredictRequest]:
    """The customers of a V2 request, validated as /predict validates them."""
    named = _named_inputs(request)
    problems: list[ErrorDetail] = []
    columns = {name: _column(index, tensor, problems) for name, (index, tensor) in named.items()}
    if problems:
        raise InvalidInferenceRequestError(problems)
    sizes = {name: len(values or ()) for name, values in columns.items()}
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{name} {size}" for name, size in sizes.items())
        raise InvalidInferenceRequestError(
            [_problem(["inputs"], f"inputs hold different numbers of customers: {listed}", "shape")]
        )
    rows = next(iter(sizes.values()))
    if rows > max_batch:
        raise InferenceBatchTooLargeError(rows, max_batch)
    customers: list[PredictRequest] = []
    for row in range(rows):
        record = {name: values[row] for name, values in columns.items() if values is not None}
        try:
            customers.append(PredictRequest.model_validate(record))
        except ValidationError as error:
            for item in error.errors(include_url=False):
                problems.append(_row_problem(item, row, named))
    if problems:
        raise InvalidInferenceRequestError(problems)
    return customers


def encode(
    predictions: Sequence[ChurnPrediction], requested: Sequence[str] | None
) -> list[ResponseOutput]:
    """One output per answer field, in the order asked for (all of them by default)."""
    data: dict[str, list[Any]] = {
        "churn_probability": [p.churn_probability for p in predictions],
        "churn": [p.churn for p in predictions],
        "risk_band": [p.risk_band for p in predictions],
    }
    by_name = {output.name: output for output in OUTPUTS}
    return [
        ResponseOutput(
            name=name,
            shape=[len(predictions)],
            datatype=by_name[name].datatype,
            data=data[name],
        )
        for name in (requested or OUTPUT_NAMES)
    ]
