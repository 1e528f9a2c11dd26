"""The function as AWS runs it: the deployment zip, unpacked, under Lambda's Python, boto3 only.

:class:`PackagedHandler` builds the zip that ``iris-provision`` deploys
(:func:`infra.provision.package.build_function_zip`), unpacks it into a fresh folder and starts one
worker process under the Lambda runtime's Python (3.12, ``IRIS_LAMBDA_PYTHON`` or pyenv's or uv's)
in a virtual environment that holds nothing but boto3, as the Lambda runtime provides. The worker
imports the handler by its handler string from the unpacked zip only; each invocation sends the
event as one JSON line and reads the result or the error back, so a handler error is a function
error for the event source mapping. The runner's ``--packaged`` mode uses it: the zip that ships is
the code that is tested. The worker's environment is the function's (``RETRAIN_TABLE``,
``CONFIDENCE_THRESHOLD``, the AWS endpoint and credentials), nothing of the runner's.
"""

from __future__ import annotations

import glob
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import boto3

from infra.config import MappingSettings
from infra.esm.handlers import function_environment
from infra.provision.package import build_function_zip

LAMBDA_PYTHON = "3.12"
# Runs inside the worker; the protocol uses the original stdout, the handler's prints go to stderr.
_BOOTSTRAP = r"""
import importlib, json, os, sys, traceback
proto = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
module, _, name = os.environ["_HANDLER"].rpartition(".")
handler = getattr(importlib.import_module(module), name)
class Context:
    def __init__(self, c):
        self.function_name = c["function_name"]
        self.aws_request_id = c["aws_request_id"]
        self.memory_limit_in_mb = c["memory_limit_in_mb"]
        self.invoked_function_arn = c["invoked_function_arn"]
        self._ms = c["timeout_ms"]
    def get_remaining_time_in_millis(self):
        return self._ms
for line in sys.stdin:
    request = json.loads(line)
    try:
        reply = {"result": handler(request["event"], Context(request["context"]))}
    except Exception as exc:
        reply = {"error": {"type": type(exc).__name__, "message": str(exc),
                           "trace": traceback.format_exc()}}
    proto.write(json.dumps(reply, default=str) + "\n")
"""


class PackagedFunctionError(RuntimeError):
    """The packaged function raised (a function error), or its worker died."""


def find_lambda_python() -> str:
    """The interpreter for the Lambda runtime's Python version."""
    if configured := os.environ.get("IRIS_LAMBDA_PYTHON"):
        return configured
    home = Path.home() / ".pyenv" / "versions"
    found = sorted(glob.glob(str(home / f"{LAMBDA_PYTHON}.*" / "bin" / f"python{LAMBDA_PYTHON}")))
    if found:
        return found[-1]
    uv = shutil.which("uv")
    if uv:
        out = subprocess.run([uv, "python", "find", LAMBDA_PYTHON], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    raise FileNotFoundError(
        f"no Python {LAMBDA_PYTHON} for the packaged function: set IRIS_LAMBDA_PYTHON "
        f"or install it (pyenv install {LAMBDA_PYTHON}, or uv python install {LAMBDA_PYTHON})"
    )


def ensure_runtime_env(venv: Path) -> Path:
    """A venv of the Lambda Python with only boto3 (the version locked here); its python."""
    python = venv / "bin" / "python"
    marker = venv / f".boto3-{boto3.__version__}"
    if marker.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    base = find_lambda_python()
    uv = shutil.which("uv")
    if uv:
        subprocess.run([uv, "venv", "--quiet", "--python", base, str(venv)], check=True)
        install = [uv, "pip", "install", "--quiet", "--python", str(python)]
    else:
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        install = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*install, f"boto3=={boto3.__version__}"], check=True)
    marker.touch()
    return python


class PackagedHandler:
    """A Lambda-style handler that runs the deployment zip in its own Python 3.12 process."""

    def __init__(self, settings: MappingSettings, runtime_dir: Path | None = None) -> None:
        if settings.lambda_source_dir is None:
            raise FileNotFoundError("the flagger package (the function's source) is not installed")
        self.package = build_function_zip(settings.lambda_source_dir, settings.lambda_handler)
        self._tmp = tempfile.TemporaryDirectory(prefix="iris-packaged-")
        self.task_root = Path(self._tmp.name) / "task"
        with zipfile.ZipFile(io.BytesIO(self.package.zip_bytes)) as zf:
            zf.extractall(self.task_root)
        runtime_dir = runtime_dir or settings.data_dir / "lambda-runtime"
        self.python = ensure_runtime_env(runtime_dir / f"python{LAMBDA_PYTHON}")
        env = function_environment(settings) | {
            "PATH": "/usr/bin:/bin",
            "LAMBDA_TASK_ROOT": str(self.task_root),
        }
        self._proc = subprocess.Popen(
            [str(self.python), "-I", "-c", _BOOTSTRAP],  # -I: no user site, no PYTHON* vars
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
            env=env,
            cwd=self.task_root,
            text=True,
        )
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        request = {
            "event": event,
            "context": {
                "function_name": context.function_name,
                "aws_request_id": context.aws_request_id,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "invoked_function_arn": context.invoked_function_arn,
                "timeout_ms": context.get_remaining_time_in_millis(),
            },
        }
        with self._lock:  # one worker, one invocation at a time (as one Lambda instance)
            assert self._proc.stdin is not None and self._proc.stdout is not None
            try:
                self._proc.stdin.write(json.dumps(request) + "\n")
                self._proc.stdin.flush()
                line = self._proc.stdout.readline()
            except BrokenPipeError:
                line = ""
        if not line:
            raise PackagedFunctionError(
                f"the packaged function's worker exited ({self._proc.poll()})"
            )
        reply = json.loads(line)
        if "error" in reply:
            error = reply["error"]
            raise PackagedFunctionError(f"{error['type']}: {error['message']}")
        return reply["result"]

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()  # type: ignore[union-attr]
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._tmp.cleanup()
