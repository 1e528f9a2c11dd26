"""The embedded stack, piece by piece, for end-to-end tests of the monitoring loop.

Unlike the launcher test, the pieces are started separately so a test can kill and restart one
of them (the stream runner) while the others keep going. Everything is real: DynamoDB Local,
the provisioning code, ``python -m model_api`` with TensorFlow, ``python -m infra.esm``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from infra.aws import LOCAL_CREDENTIALS, make_clients
from infra.config import InfraSettings
from infra.local.dynamodb_local import free_port
from infra.provision import provision_down, provision_up

from tests.support.waits import wait_http


@dataclass
class Stack:
    """Handles on the running pieces and the environment they share."""

    env: dict[str, str]
    api_url: str
    data_dir: Path
    runner: subprocess.Popen | None = None
    children: list[subprocess.Popen] = field(default_factory=list)

    def spawn(self, module: str, log_name: str) -> subprocess.Popen:
        log = open(self.data_dir / f"{log_name}.log", "ab")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen(
            [sys.executable, "-m", module], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.children.append(proc)
        return proc

    def start_runner(self) -> None:
        self.runner = self.spawn("infra.esm", "esm")

    def kill_runner(self) -> None:
        """SIGKILL: no chance to flush anything, as when a machine dies."""
        assert self.runner is not None
        self.runner.send_signal(signal.SIGKILL)
        self.runner.wait(timeout=10)
        self.runner = None

    def stop_all(self) -> None:
        for proc in reversed(self.children):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.children:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def embedded_stack(
    tmp_path: Path, aws_endpoint: Any, table_names: dict[str, str]
) -> Iterator[Stack]:
    """Provisioned tables + model_api on a real endpoint; the test starts the stream runner."""
    api_port = free_port()
    env = {
        **os.environ,
        "IRIS_SCORE_TABLE": table_names["score"],
        "IRIS_RETRAIN_TABLE": table_names["retrain"],
        "IRIS_REGISTRY_TABLE": table_names["registry"],
        "IRIS_DATA_DIR": str(tmp_path),
        "IRIS_API_PORT": str(api_port),
        "IRIS_ESM_POLL_INTERVAL": "0.1",
    } | aws_endpoint.child_env()
    settings = InfraSettings(
        aws_endpoint_url=aws_endpoint.url,
        aws_region=aws_endpoint.region,
        score_table=table_names["score"],
        retrain_table=table_names["retrain"],
        registry_table=table_names["registry"],
    )
    credentials = LOCAL_CREDENTIALS if aws_endpoint.is_local_engine else None
    provision_up(settings, with_lambda=False, clients=make_clients(settings, credentials))
    stack = Stack(env=env, api_url=f"http://127.0.0.1:{api_port}", data_dir=tmp_path)
    api = stack.spawn("model_api", "model_api")
    try:
        wait_http(f"{stack.api_url}/health/ready", api, 180, tmp_path / "model_api.log")
        yield stack
    finally:
        stack.stop_all()
        provision_down(settings, with_lambda=False, clients=make_clients(settings, credentials))
