"""model_api replicas as separate processes (``uv run --frozen model-api``), shared by the
replica tests and the replicas benchmark (no pytest here: bench imports it)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import httpx
from infra.local.dynamodb_local import free_port

from tests.support.waits import wait_for, wait_http

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


class Takeover(NamedTuple):
    """What the replica left standing did with a job after the kill."""

    replica: Replica  # the one that finished it
    final: dict[str, Any]  # the job's last document (its status one of the final ones)
    seen: list[str]  # every status read on the way, so a test can assert none was ``failed``


def kill_and_follow(
    victim: Replica, survivor: Replica | Callable[[], Replica], path: str, done: str, timeout: float
) -> Takeover:
    """SIGKILL ``victim`` mid-work (no lease released, nothing written), then poll ``path`` on
    the survivor until its ``status`` is ``done`` or ``failed``: the replica tests' take-over.

    ``survivor`` is a running replica, or a callable starting one after the kill (a new
    replica on the victim's state); either is waited ready first."""
    victim.kill()
    replica = survivor if isinstance(survivor, Replica) else survivor()
    replica.wait_ready()
    seen: list[str] = []
    with replica.client() as api:

        def finished() -> dict[str, Any] | None:
            doc = api.get(path).json()
            seen.append(doc["status"])
            return doc if doc["status"] in (done, "failed") else None

        final = wait_for(finished, timeout, f"{path} to be {done} after the kill")
    return Takeover(replica, final, seen)
