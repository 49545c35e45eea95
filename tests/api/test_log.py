"""Logs: JSON lines by default, plain text on request, uvicorn's access log silenced."""

from __future__ import annotations

import json
import logging


def test_logs_are_json_lines_with_level_logger_pid_and_time(client, capsys):
    client.get("/health", headers={"X-Request-ID": "log-1"})

    [line] = [json.loads(text) for text in capsys.readouterr().err.splitlines()]
    assert {"level", "logger", "pid", "message", "time"} <= set(line)
    assert (line["level"], line["logger"], line["request_id"]) == (
        "INFO", "bankchurn.api.access", "log-1"
    )  # fmt: skip


def test_text_logs_carry_the_same_fields(make_client, capsys):
    client = make_client(log_format="text")
    capsys.readouterr()  # start-up lines
    response = client.get("/health", headers={"X-Request-ID": "log-2"})

    [line] = capsys.readouterr().err.splitlines()
    assert response.status_code == 200
    assert " INFO bankchurn.api.access request " in line
    assert "request_id='log-2'" in line
    assert "route='/health'" in line
    assert "status=200" in line


def test_log_level_filters_the_service_loggers(make_client, capsys):
    client = make_client(log_level="WARNING")
    response = client.get("/health")
    client.post("/predict", json={})

    assert response.status_code == 200
    assert capsys.readouterr().err == ""


def test_uvicorn_access_log_is_replaced_by_the_apps(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert logging.getLogger("uvicorn.access").disabled


def test_the_access_log_can_be_switched_off_and_request_ids_stay(make_client, capsys):
    client = make_client(access_log=False)
    capsys.readouterr()  # start-up lines
    response = client.get("/health", headers={"X-Request-ID": "log-3"})
    generated = client.get("/health")

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "log-3"
    assert len(generated.headers["X-Request-ID"]) == 32
    assert capsys.readouterr().err == ""
