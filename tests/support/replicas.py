"""model_api replicas as separate processes (``uv run --frozen model-api``), shared by the
replica tests and the replicas benchmark (no pytest here: bench imports it)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
from infra.local.dynamodb_local import free_port

from tests.support.waits import wait_http

ROOT = Path(__file__).resolve().parents[2]


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


def clean_env() -> dict[str, str]:
    """This process's environment without any ``IRIS_``/``AWS_`` variable (the caller sets them)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("IRIS_", "AWS_"))}


def start_replica(name: str, data_dir: Path, log: Path, env: dict[str, str]) -> Replica:
    """Start one replica on a free port with its own data directory (not waited for)."""
    port = free_port()
    data_dir.mkdir(exist_ok=True)
    env = env | {"IRIS_API_PORT": str(port), "IRIS_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(
        [_uv(), "run", "--frozen", "model-api"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Replica(name, f"http://127.0.0.1:{port}", data_dir, log, proc)
