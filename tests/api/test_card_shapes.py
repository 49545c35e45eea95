"""A model card of any shape is refused as ``card_invalid`` naming the field, never a crash.

Hypothesis mutates one node of the committed card (deletes it, nulls it, gives it a
value of another JSON type, wraps it in a list or an object) and the API's own loading
path runs on it, for both backends. The load either succeeds (the node was one nothing
relies on) or is refused with a ``ModelLoadError``: ``card_invalid`` with the mutated
field in its message, or the one semantic reason a well-formed change can earn
(``schema_mismatch`` for a feature schema that differs from ours, ``onnx_unavailable``
for an ONNX section that no longer names an export). Never ``load_error``, never
another exception.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.model_loading import load_and_warm_up
from app.settings import Settings
from bankchurn.artifacts import CARD_FILE, ModelLoadError

Path_ = tuple[str | int, ...]

# A value of each JSON type; a mutation picks one whose type differs from the node's.
_JSON_VALUES: list[Any] = [None, True, 0, -1, 2.5, float("nan"), "", "x", [], [1], {}, {"a": 1}]


def _paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*prefix, index))


def _json_type(value: Any) -> str:
    return "number" if type(value) in (int, float) else type(value).__name__


def _mutated(card: dict[str, Any], path: Path_, kind: str, value: Any) -> Any:
    document = copy.deepcopy(card)
    if not path:
        return value if kind == "retype" else None
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if kind == "delete" and isinstance(parent, dict):
        del parent[last]
    elif kind == "delete":  # a list element: drop it
        parent.pop(last)
    elif kind == "null":
        parent[last] = None
    elif kind == "list":
        parent[last] = [parent[last]]
    elif kind == "object":
        parent[last] = {"value": parent[last]}
    else:
        parent[last] = value
    return document


@pytest.fixture(scope="module")
def committed_card(model_dir: Path) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((model_dir / CARD_FILE).read_text())
    return card


@pytest.fixture(scope="module")
def scratch_model(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(shutil.copytree(model_dir, tmp_path_factory.mktemp("cards") / "model"))


@pytest.fixture(scope="module")
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool


def _named_field(path: Path_) -> str:
    keys = [key for key in path if isinstance(key, str)]
    return keys[-1] if keys else "card_schema_version"


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_card_of_any_shape_loads_or_is_refused_naming_the_field(
    data: st.DataObject,
    committed_card: dict[str, Any],
    scratch_model: Path,
    executor: ThreadPoolExecutor,
) -> None:
    path = data.draw(st.sampled_from(list(_paths(committed_card))), label="path")
    kind = data.draw(st.sampled_from(["delete", "null", "retype", "list", "object"]))
    original: Any = committed_card
    for key in path:
        original = original[key]
    others = [v for v in _JSON_VALUES if _json_type(v) != _json_type(original)]
    value = data.draw(st.sampled_from(others), label="value")
    backend = data.draw(st.sampled_from(["sklearn", "onnx"]), label="backend")
    (scratch_model / CARD_FILE).write_text(json.dumps(_mutated(committed_card, path, kind, value)))

    refusal: ModelLoadError | None = None
    try:
        load_and_warm_up(Settings(model_dir=scratch_model, backend=backend), executor)
    except ModelLoadError as error:  # any other exception fails the test with its traceback
        refusal = error
    if refusal is None:
        return  # the mutated node was one nothing relies on
    allowed = {"card_invalid"}
    if path[:1] == ("schema",):
        allowed.add("schema_mismatch")
    if path[:1] == ("onnx",) and backend == "onnx":
        allowed.add("onnx_unavailable")
    assert refusal.reason in allowed, (path, kind, refusal.reason, str(refusal))
    if refusal.reason == "card_invalid":
        assert _named_field(path) in str(refusal), (path, kind, str(refusal))
        assert "Traceback" not in str(refusal)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        pytest.param({"artifacts": None}, "artifacts", id="artifacts-null"),
        pytest.param({"versions": "x"}, "versions", id="versions-a-string"),
        pytest.param({"versions": {"numpy": "2.4.6"}}, "versions.scikit-learn", id="no-sklearn"),
        pytest.param({"threshold": {"value": "0.3"}}, "threshold.value", id="threshold-a-string"),
        pytest.param({"card_schema_version": True}, "card_schema_version", id="version-a-bool"),
        pytest.param({"onnx": {"file": "model.onnx"}}, "onnx", id="onnx-incomplete"),
    ],
)
def test_a_misshapen_card_is_refused_with_the_field_named(
    edit: dict[str, Any],
    field: str,
    committed_card: dict[str, Any],
    scratch_model: Path,
    executor: ThreadPoolExecutor,
) -> None:
    (scratch_model / CARD_FILE).write_text(json.dumps({**committed_card, **edit}))
    with pytest.raises(ModelLoadError) as raised:
        load_and_warm_up(Settings(model_dir=scratch_model), executor)
    assert raised.value.reason == "card_invalid"
    assert f"({field}" in str(raised.value) or f"; {field}" in str(raised.value), str(raised.value)
    assert str(raised.value).startswith(str(scratch_model / CARD_FILE))
