"""``iris-stack run`` as a user runs it: a subprocess on free ports with a temporary data dir.

These start the real DynamoDB Local (and the local stream runner) through the launcher and
check what a user relies on: the ready line, the tables, the logs, persistence across restarts,
Ctrl-C stopping every child, a dying child stopping the rest, clear messages for a busy port and
a missing Java; and once the whole stack (model_api and the dashboard included), answering on the
printed URLs and leaving nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from infra.local.dynamodb_local import free_port, port_in_use
from infra.local.stack import READY_LINE

pytestmark = pytest.mark.integration
STARTUP_LIMIT_S = 120  # a bound against hanging, not a speed check


@dataclass
class Launched:
    """A running launcher and what it printed."""

    proc: subprocess.Popen
    env: dict[str, str]
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue = field(default_factory=queue.Queue)

    def read_until(self, needle: str, limit: float = STARTUP_LIMIT_S) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None and self._queue.empty():
                    break
                continue
            if line is None:
                break
            self.lines.append(line)
            if needle in line:
                return
        raise AssertionError(f"{needle!r} never printed; output:\n{self.output}")

    def finish(self, limit: float = 60) -> int:
        code = self.proc.wait(timeout=limit)
        while True:
            try:
                line = self._queue.get(timeout=2)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def pids(self) -> dict[str, int]:
        return {
            m.group(1): int(m.group(2))
            for m in re.finditer(r"started (\S+) \(pid (\d+)\)", self.output)
        }


def _launch(env: dict[str, str], *args: str) -> Launched:
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    launched = Launched(proc=proc, env=env)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            launched._queue.put(line)
        launched._queue.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return launched


@pytest.fixture
def stack_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "IRIS_"))}
    suffix = uuid.uuid4().hex[:8]
    env |= {
        "IRIS_DATA_DIR": str(tmp_path / "data"),
        "IRIS_AWS_PORT": str(free_port()),
        "IRIS_API_PORT": str(free_port()),
        "IRIS_UI_PORT": str(free_port()),
        "IRIS_SCORE_TABLE": f"Score-{suffix}",
        "IRIS_RETRAIN_TABLE": f"Retrain-{suffix}",
        "IRIS_REGISTRY_TABLE": f"Registry-{suffix}",
        "IRIS_LAUNCHER_STOP_GRACE_S": "15",
    }
    return env


@pytest.fixture
def cleanup() -> Iterator[list[Launched]]:
    """Whatever a failing test leaves running is stopped."""
    started: list[Launched] = []
    yield started
    for launched in started:
        if launched.proc.poll() is None:
            launched.proc.send_signal(signal.SIGINT)
            try:
                launched.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                launched.proc.kill()
        for pid in launched.pids().values():
            _kill_if_ours(pid, launched.env["IRIS_DATA_DIR"])


def _kill_if_ours(pid: int, data_dir: str) -> None:
    """Kill a leftover child, but only if that pid is still one of ours (pids get reused)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return
    if f"IRIS_DATA_DIR={data_dir}".encode() in environ:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _gone(pid: int, limit: float = 30) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def _ddb(env: dict[str, str]):
    return boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{env['IRIS_AWS_PORT']}",
        region_name="us-east-1",
        aws_access_key_id="someoneElse",  # -sharedDb: other credentials see the same tables
        aws_secret_access_key="x",
    )


def test_run_starts_provisions_persists_and_ctrl_c_stops_everything(stack_env, cleanup):
    first = _launch(stack_env, "run", "--no-api", "--no-ui")
    cleanup.append(first)
    first.read_until(READY_LINE)

    pids = first.pids()
    assert set(pids) == {"dynamodb", "stream-runner"}
    port = int(stack_env["IRIS_AWS_PORT"])
    assert f"http://127.0.0.1:{port}" in first.output
    data = Path(stack_env["IRIS_DATA_DIR"])
    assert f"{data}/logs/*.log" in first.output
    ddb = _ddb(stack_env)
    score = ddb.describe_table(TableName=stack_env["IRIS_SCORE_TABLE"])["Table"]
    assert score["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    ddb.describe_table(TableName=stack_env["IRIS_RETRAIN_TABLE"])
    registry = ddb.describe_table(TableName=stack_env["IRIS_REGISTRY_TABLE"])["Table"]
    assert {k["AttributeName"] for k in registry["KeySchema"]} == {"pk", "sk"}
    key = {"partition_key": {"S": "run-1"}, "sort_key": {"S": "000001"}}
    ddb.put_item(TableName=stack_env["IRIS_SCORE_TABLE"], Item=key)
    assert (data / "logs" / "dynamodb.log").exists()
    assert (data / "logs" / "stream-runner.log").exists()
    assert any((data / "dynamodb").iterdir())  # persisted, not in memory

    first.proc.send_signal(signal.SIGINT)
    assert first.finish() == 0
    assert "all stopped" in first.output
    for name, pid in pids.items():
        assert _gone(pid), f"{name} (pid {pid}) still running"
    assert not port_in_use(port)

    second = _launch(stack_env, "run", "--no-api", "--no-ui", "--no-stream-runner")
    cleanup.append(second)
    second.read_until(READY_LINE)
    assert f"{stack_env['IRIS_SCORE_TABLE']} unchanged" in second.output
    item = _ddb(stack_env).get_item(TableName=stack_env["IRIS_SCORE_TABLE"], Key=key)
    assert item["Item"] == key  # the data dir kept it across the restart
    second.proc.send_signal(signal.SIGTERM)
    assert second.finish() == 0
    assert all(_gone(pid) for pid in second.pids().values())


def _http_status(url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return int(response.status)


def test_full_stack_answers_on_the_printed_urls_and_stops_cleanly(stack_env, cleanup):
    launched = _launch(stack_env, "run")
    cleanup.append(launched)
    launched.read_until(READY_LINE, limit=300)  # model_api imports TensorFlow

    pids = launched.pids()
    assert set(pids) == {"dynamodb", "stream-runner", "model_api", "dashboard"}
    api, ui = stack_env["IRIS_API_PORT"], stack_env["IRIS_UI_PORT"]
    assert f"http://127.0.0.1:{api}/docs" in launched.output
    assert f"http://127.0.0.1:{ui}/" in launched.output
    assert _http_status(f"http://127.0.0.1:{api}/health/ready") == 200
    assert _http_status(f"http://127.0.0.1:{ui}/") == 200

    launched.proc.send_signal(signal.SIGINT)
    assert launched.finish() == 0
    for name, pid in pids.items():
        assert _gone(pid), f"{name} (pid {pid}) still running"
    for key in ("IRIS_AWS_PORT", "IRIS_API_PORT", "IRIS_UI_PORT"):
        assert not port_in_use(int(stack_env[key])), key


def test_a_dying_child_is_named_and_stops_the_stack(stack_env, cleanup):
    launched = _launch(stack_env, "run", "--no-api", "--no-ui")
    cleanup.append(launched)
    launched.read_until(READY_LINE)
    pids = launched.pids()

    os.kill(pids["dynamodb"], signal.SIGKILL)

    assert launched.finish() == 1
    assert "dynamodb exited with code" in launched.output
    assert _gone(pids["stream-runner"])
    assert not port_in_use(int(stack_env["IRIS_AWS_PORT"]))


def test_port_in_use_is_a_clear_message(stack_env, cleanup):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        stack_env["IRIS_AWS_PORT"] = str(busy.getsockname()[1])
        launched = _launch(stack_env, "run", "--no-api", "--no-ui")
        cleanup.append(launched)
        assert launched.finish() == 1
    assert f"port {stack_env['IRIS_AWS_PORT']} for the AWS endpoint" in launched.output
    assert "IRIS_AWS_PORT=" in launched.output
    assert "started" not in launched.output


def test_missing_java_says_what_to_install(stack_env, cleanup, tmp_path):
    stack_env["JAVA_HOME"] = str(tmp_path / "no-java-here")
    launched = _launch(stack_env, "run", "--no-api", "--no-ui")
    cleanup.append(launched)
    assert launched.finish() == 1
    assert "Java 17 or newer is needed" in launched.output
    assert "openjdk-17-jre-headless" in launched.output


def test_aws_env_prints_export_lines(stack_env):
    stack_env["IRIS_AWS_PORT"] = "4599"
    out = subprocess.run(
        [sys.executable, "-m", "infra.local", "aws-env"],
        env=stack_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:4599" in out
    assert "export AWS_ACCESS_KEY_ID=local" in out
    assert "export AWS_SECRET_ACCESS_KEY=local" in out
    assert f"export IRIS_SCORE_TABLE={stack_env['IRIS_SCORE_TABLE']}" in out
