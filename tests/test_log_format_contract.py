"""One log format across services (``iris_common.logs``): every line each service prints is one
JSON object with the same keys, and a request's id is on its lines.

Real processes: model_api and the dashboard are started as ``python -m ...`` and asked one
request with an ``X-Request-ID``; the stream runner is started against the test endpoint.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from infra.local.dynamodb_local import free_port

KEYS = {"ts", "level", "service", "logger", "message", "request_id"}


def _lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "the service logged nothing"
    parsed = [json.loads(line) for line in lines]  # fails on any non-JSON line
    for entry in parsed:
        assert set(entry) >= KEYS, entry
    return parsed


def _run_and_ask(cmd: list[str], env: dict[str, str], url: str, tmp_path: Path) -> str:
    log_path = tmp_path / "out.log"
    with open(log_path, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    r = httpx.get(url, headers={"X-Request-ID": "contract-7"}, timeout=5)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(log_path.read_text()) from None
                    time.sleep(0.3)
            assert r.headers["x-request-id"] == "contract-7"
            time.sleep(0.5)  # let the access line reach the file
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return log_path.read_text()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")}
    return env | {"IRIS_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"} | extra


@pytest.mark.parametrize(
    ("module", "service", "port_var", "path"),
    [
        ("model_api", "model_api", "IRIS_API_PORT", "/health/live"),
        ("dashboard", "dashboard", "IRIS_UI_PORT", "/"),
    ],
)
def test_http_services_log_json_with_the_request_id(
    module: str, service: str, port_var: str, path: str, tmp_path: Path, request: Any
) -> None:
    port = free_port()
    env = _env(tmp_path, **{port_var: str(port), "IRIS_SCORELOG_ENABLED": "false"})
    if module == "model_api":  # its state lives in the registry table: give it one
        env |= request.getfixturevalue("aws_endpoint").child_env()
        env["IRIS_REGISTRY_TABLE"] = request.getfixturevalue("provisioned_tables")["registry"]
    text = _run_and_ask(
        [sys.executable, "-m", module], env, f"http://127.0.0.1:{port}{path}", tmp_path
    )
    lines = _lines(text)
    assert {entry["service"] for entry in lines} == {service}
    mine = [entry for entry in lines if entry["request_id"] == "contract-7"]
    assert any(entry["message"].startswith(f"GET {path} 200") for entry in mine), lines


@pytest.mark.integration
def test_stream_runner_logs_the_same_format(aws_endpoint, provisioned_tables, tmp_path) -> None:
    env = _env(
        tmp_path,
        IRIS_SCORE_TABLE=provisioned_tables["score"],
        IRIS_RETRAIN_TABLE=provisioned_tables["retrain"],
        **aws_endpoint.child_env(),
    )
    out_path = tmp_path / "runner.log"
    with open(out_path, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "infra.esm"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 120  # start-up is slow on a loaded machine
            while "event source mapping starting" not in out_path.read_text():
                assert proc.poll() is None, out_path.read_text()
                assert time.monotonic() < deadline, out_path.read_text()
                time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    lines = _lines(out_path.read_text())
    assert {entry["service"] for entry in lines} == {"stream-runner"}
    assert "event source mapping stopped" in [entry["message"] for entry in lines]
