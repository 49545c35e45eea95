"""Feature drift through Prometheus: the PSI rule gives the number `bankchurn drift` gives.

Two proofs. promtool evaluates the rules on counter series built from a CSV's bin counts
and must land within 1e-6 of the offline command on the same rows. Then, end to end, a
real Prometheus (Debian's binary, on loopback, scraping every second) scrapes a real
uvicorn serving the committed model: customers drawn from the training distribution keep
every PSI under 0.1; customers 15 years older drive age's PSI over 0.25 and put
``FeatureDrift{feature="age"}`` in pending, while the other features stay under 0.1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml

from bankchurn.cli import main
from bankchurn.data import frame_to_matrix, load_csv
from bankchurn.drift import EPSILON, DriftReference, psi_by_feature, reference_from_card
from bankchurn.schema import FEATURES
from bankchurn.synth import write_csv
from tests.compose.composetools import REPO_ROOT, RULES_DIR, require_tool, run
from tooling.net import free_port, wait_until

DRIFT_RULES = RULES_DIR / "bankchurn-drift.yaml"
MODEL_DIR = REPO_ROOT / "models"
AGE = [feature.name for feature in FEATURES].index("age")
JOB = {"job": "bankchurn-api", "instance": "api:8000"}


@pytest.fixture(scope="module")
def reference() -> DriftReference:
    found = reference_from_card(json.loads((MODEL_DIR / "model_card.json").read_text()))
    assert found is not None, "the committed card has no drift_reference: run `make train`"
    return found


def test_the_rule_clamps_at_the_epsilon_of_the_offline_definition() -> None:
    expr = next(
        rule["expr"]
        for group in yaml.safe_load(DRIFT_RULES.read_text())["groups"]
        for rule in group["rules"]
        if rule.get("record") == "bankchurn:feature_psi:1h"
    )
    floors = re.findall(r"clamp_min\([^,]+,\s*([0-9.e-]+)\)", expr)
    assert len(floors) == 4
    assert {float(floor) for floor in floors} == {EPSILON}
    assert f"epsilon = {EPSILON:g}" in DRIFT_RULES.read_text()  # the comment states it


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ", ".join(f"{key}={json.dumps(value)}" for key, value in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def test_the_psi_rule_agrees_with_the_offline_command_on_the_same_rows(
    reference: DriftReference, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    promtool = require_tool("promtool", "prometheus")
    csv = tmp_path / "new.csv"
    write_csv(csv, rows=3000, seed=5)
    text = csv.read_text().splitlines()
    header = text[0].split(",")
    age = header.index("Age")
    rows = [line.split(",") for line in text[1:]]
    geography = header.index("Geography")
    for row in rows[:1000]:  # a third of the customers 15 years older: every PSI regime at once
        row[age] = str(min(int(row[age]) + 15, 120))
    for row in rows:  # and no one from Germany: an empty bin, where epsilon decides the value
        row[geography] = "France" if row[geography] == "Germany" else row[geography]
    csv.write_text("\n".join([text[0], *(",".join(row) for row in rows)]) + "\n")

    assert main(["drift", "--model", str(MODEL_DIR), "--data", str(csv), "--json"]) == 0
    offline: dict[str, float] = json.loads(capsys.readouterr().out)["psi"]
    assert offline["age"] > 0.1  # the example is not all zeros
    assert offline["geography"] > 0.25

    # The CSV's counts as two scrapes 30 minutes apart (0, then the count), as the API exports them.
    counts = reference.counts(frame_to_matrix(load_csv(csv).features))
    series: list[dict[str, str]] = []
    for bins, bin_counts in zip(reference.features, counts, strict=True):
        for label, count, share in zip(bins.labels, bin_counts, bins.shares, strict=True):
            labels = {**JOB, "feature": bins.name, "bin": label}
            series.append(_series("bankchurn_feature_bin_total", labels, f"0 {count}"))
            series.append(_series("bankchurn_feature_reference_ratio", labels, f"{share!r}x1"))
        series.append(_series("offline_psi", {"feature": bins.name}, f"{offline[bins.name]!r}x1"))
    test = {
        "rule_files": [str(DRIFT_RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "30m",
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": "abs(bankchurn:feature_psi:1h - on (feature) offline_psi)"
                        " < bool 1e-6",
                        "eval_time": "30m",
                        "exp_samples": [
                            {"labels": f'{{feature="{name}"}}', "value": 1} for name in offline
                        ],
                    }
                ],
            }
        ],
    }
    test_file = tmp_path / "agreement.test.yaml"
    test_file.write_text(yaml.safe_dump(test))
    result = run(promtool, "test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


# --- end to end: uvicorn + Prometheus ---------------------------------------------------------


def _start(
    command: list[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Stack:
    def __init__(self, api: str, prometheus: str, logs: list[Path]) -> None:
        self.api = httpx.Client(base_url=api, timeout=30)
        self.prometheus = httpx.Client(base_url=prometheus, timeout=10)
        self.logs = logs

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = self.prometheus.get("/api/v1/query", params={"query": expr})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def wait_for(self, what: str, check: Any, timeout: float = 30.0) -> Any:
        found = wait_until(lambda: check() or None, timeout=timeout, interval=0.25)
        if found is not None:
            return found
        logs = "\n".join(log.read_text(errors="replace")[-3000:] for log in self.logs)
        pytest.fail(f"{what}: not within {timeout} s\n{logs}")

    def score(self, matrix: np.ndarray) -> None:
        """Send the rows as customers: the first few one by one, the rest in batches."""
        customers = [
            {f.name: (f.categories[int(v)] if hasattr(f, "categories") else _number(f, v))
             for f, v in zip(FEATURES, row, strict=True)}
            for row in matrix
        ]  # fmt: skip
        for customer in customers[:10]:
            response = self.api.post("/predict", json=customer)
            assert response.status_code == 200, response.text
        for start in range(10, len(customers), 500):
            batch = {"customers": customers[start : start + 500]}
            response = self.api.post("/predict/batch", json=batch)
            assert response.status_code == 200, response.text
            assert len(response.json()["predictions"]) == len(batch["customers"])

    def psi(self) -> dict[str, float]:
        found = self.query("bankchurn:feature_psi:1h")
        return {r["metric"]["feature"]: float(r["value"][1]) for r in found}

    def agrees(self, offline: dict[str, float]) -> dict[str, float] | None:
        """Prometheus's PSI per feature once it is within 1e-6 of ``offline`` everywhere."""
        found = self.psi()
        if found.keys() != offline.keys():
            return None
        return found if all(abs(found[k] - offline[k]) < 1e-6 for k in offline) else None


def _number(feature: Any, value: float) -> float | int:
    return int(value) if feature.integer else float(value)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    binary = require_tool("prometheus", "prometheus")
    tmp = tmp_path_factory.mktemp("drift-stack")
    api_port, prometheus_port = free_port(), free_port()
    env = {**os.environ, "BANKCHURN_MODEL_DIR": str(MODEL_DIR), "BANKCHURN_LOG_LEVEL": "WARNING"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    api = _start(
        [sys.executable, "-m", "uvicorn", "app.fastapi_app:app", "--host", "127.0.0.1",
         "--port", str(api_port)],
        tmp / "uvicorn.log", env,
    )  # fmt: skip
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(DRIFT_RULES)],
        "scrape_configs": [
            {
                "job_name": "bankchurn-api",
                "static_configs": [{"targets": [f"127.0.0.1:{api_port}"]}],
            }
        ],
    }
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
    prometheus = _start(
        [binary, f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'data'}",
         f"--web.listen-address=127.0.0.1:{prometheus_port}", "--log.level=warn"],
        tmp / "prometheus.log",
    )  # fmt: skip
    stack = Stack(
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{prometheus_port}",
        [tmp / "uvicorn.log", tmp / "prometheus.log"],
    )
    try:
        yield stack
    finally:
        stack.api.close()
        stack.prometheus.close()
        _stop(prometheus)
        _stop(api)


def test_prometheus_sees_no_drift_in_training_like_traffic_and_flags_older_customers(
    stack: Stack, reference: DriftReference, tmp_path: Path
) -> None:
    def ready() -> bool:
        try:
            return stack.api.get("/ready").status_code == 200
        except httpx.TransportError:
            return False

    stack.wait_for("the API is ready", ready, timeout=60)
    bins = sum(len(f.labels) for f in reference.features)
    # Every bin scraped at 0 before the first customer: the counters' rates then start alike.
    stack.wait_for(
        "Prometheus scraped every bin",
        lambda: [
            r
            for r in stack.query("count(bankchurn_feature_bin_total)")
            if r["value"][1] == str(bins)
        ],
        timeout=60,
    )
    csv = tmp_path / "traffic.csv"
    write_csv(csv, rows=8000, seed=23)  # the training distribution, customers the model never saw
    matrix = frame_to_matrix(load_csv(csv).features)
    usual, older = matrix[:2000], matrix[2000:].copy()
    older[:, AGE] = np.minimum(older[:, AGE] + 15, 120)

    stack.score(usual)
    offline = psi_by_feature(reference, usual)
    # The rule runs every second; its PSI settles on the offline number once the last counts are in.
    usual_psi = stack.wait_for(
        "Prometheus's PSI of the usual traffic", lambda: stack.agrees(offline)
    )
    assert max(usual_psi.values()) < 0.1, usual_psi

    stack.score(older)
    offline = psi_by_feature(reference, np.vstack([usual, older]))
    shifted = stack.wait_for(
        "Prometheus's PSI with the older customers", lambda: stack.agrees(offline)
    )
    assert shifted["age"] > 0.25, shifted
    assert max(value for name, value in shifted.items() if name != "age") < 0.1, shifted
    pending = 'ALERTS{alertname="FeatureDrift", alertstate="pending"}'
    alerts = stack.wait_for("FeatureDrift pending", lambda: stack.query(pending))
    assert [alert["metric"]["feature"] for alert in alerts] == ["age"]
    assert alerts[0]["metric"]["severity"] == "warning"
    assert stack.query('ALERTS{alertname="FeatureDrift", alertstate="firing"}') == []  # `for: 30m`
