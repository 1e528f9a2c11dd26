"""The local launcher (``python -m infra.local run``) as the browser tests and the UI benchmark
start and stop it: free ports, a temporary data directory, its own process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def start_launcher(
    data_dir: Path, ports: dict[str, str], *args: str
) -> tuple[subprocess.Popen[bytes], dict[str, str], Path]:
    """The launcher on ``ports`` (``IRIS_*_PORT``) and ``data_dir``, not waited for; returns the
    process, the environment it got (for more processes on the same stack) and its log."""
    env = os.environ | ports | {"IRIS_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)  # the launcher points its children at its own engine
    log_path = data_dir / "launcher.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "run", *args],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, env, log_path


def stop(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """SIGTERM to the process (the launcher stops its children in order), then SIGKILL to its
    whole process group if it has not exited in ``timeout`` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
