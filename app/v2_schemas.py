"""The Open Inference Protocol's ("V2") REST bodies, as its specification writes them.

https://github.com/kserve/open-inference-protocol (specification/protocol/inference_rest.md).
Only the envelope is checked here (names, shapes, datatypes are strings and lists); what
the tensors must hold for this model is app.v2_codec's job, derived from bankchurn.schema.
Unknown keys are refused as in the native API: a misspelt ``input`` must not be ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import ClientId

# The specification's tensor datatypes (FP16 and BF16 included: clients may send them).
Datatype = Literal[
    "BOOL",
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "FP16",
    "FP32",
    "FP64",
    "BF16",
    "BYTES",
]
# "$parameters": key/value pairs whose values are booleans, numbers or strings.
Parameters = dict[str, bool | int | float | str]


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestInput(_Envelope):
    name: str = Field(description="One input per feature, named as in the model metadata.")
    shape: list[int] = Field(
        description="[n] or [n, 1]: n customers, one value each.", examples=[[2]]
    )
    datatype: Datatype = Field(description="As the model metadata says (INT64, FP64, BYTES).")
    parameters: Parameters | None = Field(
        None, description="Accepted and ignored (e.g. MLServer's content_type)."
    )
    data: list[Any] = Field(description="The values, flat or nested in row-major order.")


class RequestOutput(_Envelope):
    name: str = Field(description="An output of the model metadata.")
    parameters: Parameters | None = Field(
        None, description="Accepted and ignored: outputs always come back as JSON."
    )


class InferenceRequest(_Envelope):
    """Columnar customers: input i, element j is feature i of customer j."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "request-42",
                    "inputs": [
                        {"name": "CreditScore", "shape": [1], "datatype": "INT64", "data": [619]},
                        {
                            "name": "Geography",
                            "shape": [1],
                            "datatype": "BYTES",
                            "data": ["France"],
                        },
                        {"name": "Gender", "shape": [1], "datatype": "BYTES", "data": ["Female"]},
                        {"name": "Age", "shape": [1], "datatype": "INT64", "data": [42]},
                        {"name": "Tenure", "shape": [1], "datatype": "INT64", "data": [2]},
                        {"name": "Balance", "shape": [1], "datatype": "FP64", "data": [0.0]},
                        {"name": "NumOfProducts", "shape": [1], "datatype": "INT64", "data": [1]},
                        {"name": "HasCrCard", "shape": [1], "datatype": "INT64", "data": [1]},
                        {"name": "IsActiveMember", "shape": [1], "datatype": "INT64", "data": [1]},
                        {
                            "name": "EstimatedSalary",
                            "shape": [1],
                            "datatype": "FP64",
                            "data": [101348.88],
                        },
                    ],
                }
            ]
        }
    )

    id: ClientId | None = None
    parameters: Parameters | None = Field(None, description="Accepted and ignored.")
    inputs: list[RequestInput] = Field(min_length=1)
    outputs: list[RequestOutput] | None = Field(
        None, description="The outputs wanted, in this order; absent = all of them."
    )


class ResponseOutput(BaseModel):
    name: str
    shape: list[int]
    datatype: Datatype
    parameters: Parameters | None = None
    data: list[Any]


class InferenceResponse(BaseModel):
    model_name: str
    model_version: str = Field(description="The version of the model that scored every row.")
    id: str | None = Field(None, description="The request's id, echoed.")
    parameters: Parameters | None = Field(None, description="threshold: the decision threshold.")
    outputs: list[ResponseOutput]


class TensorMetadata(BaseModel):
    name: str
    datatype: Datatype
    shape: list[int] = Field(description="-1: any number of customers.")


class ModelMetadata(BaseModel):
    name: str
    versions: list[str] = Field(description="The version served now (the only one).")
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str] = Field(default_factory=list)


class LiveResponse(BaseModel):
    live: bool


class ReadyResponse(BaseModel):
    ready: bool


class ModelReadyResponse(BaseModel):
    name: str
    ready: bool


class V2ErrorResponse(BaseModel):
    """The protocol's error object: one descriptive string."""

    error: str = Field(
        examples=["inputs[3] (Age) data[1]: Input should be less than or equal to 120"]
    )
