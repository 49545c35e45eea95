"""The `bankchurn` command: each subcommand end to end, and clear exits on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bankchurn.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_synth_writes_the_requested_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "new" / "folder" / "s.csv"
    code, stdout, _ = run(
        ["data", "synth", "--rows", "50", "--seed", "1", "--out", str(out)], capsys
    )
    assert code == 0
    assert stdout.strip() == f"wrote 50 synthetic rows (seed 1) to {out}"
    assert len(out.read_text().splitlines()) == 51


def test_validate_reports_bad_rows_and_exits_2(
    tmp_path: Path, synthetic_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = synthetic_csv.read_text().splitlines(keepends=True)
    lines[5] = (
        lines[5]
        .replace(",France,", ",Narnia,")
        .replace(",Spain,", ",Narnia,")
        .replace(",Germany,", ",Narnia,")
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("".join(lines))
    code, _, err = run(["data", "validate", str(bad)], capsys)
    assert code == 2
    assert "line 6, column Geography: Geography must be one of" in err
    assert "1 invalid row(s)" in err

    code, out, err = run(["data", "validate", str(bad), "--drop-invalid"], capsys)
    assert code == 0
    assert "2999 valid rows" in out
    assert "dropped 1 invalid row(s):" in err


def test_train_show_and_evaluate(
    tmp_path: Path, synthetic_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "fast.yaml"
    config.write_text("seed: 7\nsplit: {cv_folds: 2}\nestimator: {params: {max_iter: 20}}\n")
    model = tmp_path / "model"
    code, out, _ = run(
        ["train", "--data", str(synthetic_csv), "--out", str(model), "--config", str(config)],
        capsys,
    )
    assert code == 0
    assert "# Model card: bankchurn" in out
    assert f"model written to {model}" in out

    code, out, _ = run(["model", "show", "--model", str(model), "--json"], capsys)
    assert code == 0
    card = json.loads(out)
    assert card["config"]["split"]["cv_folds"] == 2

    code, out, _ = run(["evaluate", "--model", str(model), "--data", str(synthetic_csv)], capsys)
    assert code == 0
    metrics = json.loads(out[out.index("{") :])
    assert metrics["rows"] == 3000
    assert metrics["threshold"] == card["threshold"]["value"]


def test_show_refuses_a_tampered_model(
    tmp_path: Path, fast_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    model = tmp_path / "model"
    shutil.copytree(fast_model_dir, model)
    with (model / "model.joblib").open("ab") as stream:
        stream.write(b"\0")
    code, out, err = run(["model", "show", "--model", str(model)], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert "Refusing to load it" in err


def test_train_with_a_bad_config_exits_2_naming_the_key(
    tmp_path: Path, synthetic_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("estimator: {type: svm}\n")
    code, _, err = run(
        [
            "train",
            "--data",
            str(synthetic_csv),
            "--out",
            str(tmp_path / "m"),
            "--config",
            str(config),
        ],
        capsys,
    )
    assert code == 2
    assert "estimator.type" in err
    assert not (tmp_path / "m").exists()


def test_export_needs_a_tracking_uri(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    code, _, err = run(["model", "export", "--out", str(tmp_path)], capsys)
    assert code == 2
    assert "pass --tracking-uri or set MLFLOW_TRACKING_URI" in err


def test_the_console_script_is_installed() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("bankchurn")), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "train" in result.stdout
    assert "model" in result.stdout
