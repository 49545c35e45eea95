"""tooling.capacity: the typed record the serving benchmark writes and deploy/k8s is sized from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooling.capacity import BENCHMARKS_JSON, Capacity, read_capacity


def test_the_committed_capacity_round_trips_key_for_key_in_order() -> None:
    committed = json.loads(BENCHMARKS_JSON.read_text())["capacity"]

    record = Capacity.from_json(committed)

    assert list(record.as_json().items()) == list(committed.items())
    assert read_capacity() == record


def test_a_record_missing_a_field_names_it(tmp_path: Path) -> None:
    committed = json.loads(BENCHMARKS_JSON.read_text())
    del committed["capacity"]["rss_loaded_mib"]
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps(committed))

    with pytest.raises(ValueError, match=r"lacks \['rss_loaded_mib'\]: re-run the serving bench"):
        read_capacity(path)


def test_a_missing_file_says_what_writes_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="the benchmark writes it"):
        read_capacity(tmp_path / "nope.json")
