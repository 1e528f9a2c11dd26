"""Two ``model-api`` processes (``uv run --frozen model-api``) as one service: different data
directories, the same AWS endpoint and tables; short leases so a takeover takes seconds."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from infra.local.dynamodb_local import free_port

from tests.support.waits import wait_http

ROOT = Path(__file__).resolve().parents[3]
LEASE_SECONDS = 2.0


@dataclass
class Replica:
    """One running model_api process (its own process group, so a kill takes all of it)."""

    name: str
    url: str
    data_dir: Path
    log: Path
    proc: subprocess.Popen

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def kill(self) -> None:
        """SIGKILL the whole process group: no drain, no lease released, as when a host dies."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def wait_ready(self, timeout: float = 180) -> None:
        wait_http(f"{self.url}/health/ready", self.proc, timeout, self.log)


def _uv() -> str:
    return shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")


Spawn = Callable[[str, Path], Replica]


@pytest.fixture
def spawn(aws_endpoint: Any, provisioned_tables: dict[str, str], tmp_path: Path) -> Iterator[Spawn]:
    """``spawn(name, data_dir)``: start a replica (not waited for); all stopped afterwards."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("IRIS_", "AWS_"))}
    base |= aws_endpoint.child_env() | {
        "IRIS_SCORE_TABLE": provisioned_tables["score"],
        "IRIS_RETRAIN_TABLE": provisioned_tables["retrain"],
        "IRIS_REGISTRY_TABLE": provisioned_tables["registry"],
        "IRIS_OBJECT_STORE": (tmp_path / "objects").as_uri(),  # shared, as the registry is
        "IRIS_LEASE_SECONDS": str(LEASE_SECONDS),
        "IRIS_MAX_EPOCHS": "60",
        "IRIS_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    started: list[Replica] = []

    def start(name: str, data_dir: Path) -> Replica:
        port = free_port()
        data_dir.mkdir(exist_ok=True)
        log = tmp_path / f"{name}.log"
        env = base | {"IRIS_API_PORT": str(port), "IRIS_DATA_DIR": str(data_dir)}
        proc = subprocess.Popen(
            [_uv(), "run", "--frozen", "model-api"],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        replica = Replica(name, f"http://127.0.0.1:{port}", data_dir, log, proc)
        started.append(replica)
        return replica

    try:
        yield start
    finally:
        for replica in started:
            replica.stop()


@pytest.fixture
def replicas(spawn: Spawn, tmp_path: Path) -> list[Replica]:
    """Two ready replicas, ``a`` and ``b``, each with its own data directory."""
    started = [spawn(name, tmp_path / name) for name in ("a", "b")]
    for replica in started:
        replica.wait_ready()
    return started
