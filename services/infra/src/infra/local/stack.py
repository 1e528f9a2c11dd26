"""The embedded stack without Docker, started, watched and stopped as one.

Order: DynamoDB Local (persisting under ``<data_dir>/dynamodb``) → tables provisioned in-process
→ the local event source mapping runner (``python -m infra.esm``) → model_api (waited on
``/health/ready``) → the dashboard. Every child runs with :func:`infra.local.env.child_env` and its
output in ``<data_dir>/logs/``. Ctrl-C/SIGTERM stops them in reverse order (graceful, then
killed); if one dies, the launcher names it, shows the end of its log, stops the rest and exits
non-zero.
"""

from __future__ import annotations

import importlib.util
import signal
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infra.aws import LOCAL_CREDENTIALS, make_clients
from infra.config import InfraSettings, is_loopback
from infra.local.child import Child, say
from infra.local.dynamodb_local import (
    DynamoDBLocal,
    PortInUse,
    PrerequisiteMissing,
    ServerExited,
    port_in_use,
    wait_until_ready,
)
from infra.local.env import child_env
from infra.provision import ProvisioningError, provision_up

READY_LINE = "iris-stack: ready"
_POLL_S = 0.5


class LaunchError(RuntimeError):
    """The stack cannot start; the message says why and what to do."""


class _StopRequested(BaseException):
    """Raised in the main thread by the SIGINT/SIGTERM handler (like KeyboardInterrupt)."""


@dataclass(frozen=True)
class Options:
    """Which parts to run (all by default)."""

    api: bool = True
    ui: bool = True
    stream_runner: bool = True


def _http_ok(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    try:
        with opener.open(url, timeout=3) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _module_missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


class Stack:
    """The embedded stack: start in order, watch, stop in reverse order."""

    def __init__(self, settings: InfraSettings, options: Options):
        self.settings = settings
        self.options = options
        self.data_dir = settings.data_dir.expanduser().resolve()
        self.log_dir = self.data_dir / "logs"
        self.children: list[Child] = []
        self._stopping = False
        self._stop_signal_at = 0.0
        self._hurry = False

    # ---- signals -------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: Any) -> None:
        if self._stopping:
            # A second Ctrl-C skips the graceful wait; wrappers (uv run, timeout) may forward
            # the first one again within milliseconds, so repeats inside a second do not count.
            if time.monotonic() - self._stop_signal_at > 1.0:
                self._hurry = True
                say("second signal: killing what is left")
            return
        self._stopping = True
        self._stop_signal_at = time.monotonic()
        say(f"{signal.Signals(signum).name} received; stopping")
        raise _StopRequested

    # ---- checks ----------------------------------------------------------------------------
    def _preflight(self) -> None:
        wanted = [("infra.esm.__main__", self.options.stream_runner, "--no-stream-runner")]
        wanted += [("model_api.__main__", self.options.api, "--no-api")]
        wanted += [("dashboard.__main__", self.options.ui, "--no-ui")]
        for module, enabled, flag in wanted:
            if enabled and _module_missing(module):
                package = module.rsplit(".", 1)[0]
                raise LaunchError(
                    f"`python -m {package}` is not available in this environment "
                    f"(run `uv sync --all-packages`), or start without it: {flag}"
                )
        s = self.settings
        if not is_loopback(s.host) and not s.api_token and not s.allow_open_bind:
            raise LaunchError(
                f"IRIS_HOST={s.host} is reachable from other machines, and nothing would be "
                "protected: DynamoDB Local accepts any credentials and model_api has no token. "
                "Set IRIS_API_TOKEN (and see the README's guards), or say --allow-open-bind "
                "(IRIS_ALLOW_OPEN_BIND=1) if this network is trusted."
            )
        ports = [("AWS endpoint (IRIS_AWS_PORT)", self.settings.aws_port)]
        if self.options.api:
            ports.append(("model_api (IRIS_API_PORT)", self.settings.api_port))
        if self.options.ui:
            ports.append(("dashboard (IRIS_UI_PORT)", self.settings.ui_port))
        if len({p for _, p in ports}) != len(ports):
            raise LaunchError(f"two services are configured on the same port: {ports}")
        for what, port in ports:
            if port_in_use(port):
                raise LaunchError(
                    f"port {port} for the {what} is already in use (another `iris-stack run`, "
                    f"LocalStack or docker compose?). Stop it or choose another port, e.g. "
                    f"{what.split('(')[1].rstrip(')')}={port + 1}."
                )

    # ---- start -----------------------------------------------------------------------------
    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> Child:
        child = Child(name=name, cmd=cmd, env=env, log_path=self.log_dir / f"{name}.log")
        self.children.append(child)
        child.start()
        return child

    def _wait_http(self, child: Child, url: str) -> None:
        timeout = self.settings.launcher_ready_timeout_s
        deadline = time.monotonic() + timeout
        while not _http_ok(url):
            if child.exit_code is not None:
                raise LaunchError(self._died(child))
            if time.monotonic() >= deadline:
                raise LaunchError(
                    f"{child.name} did not answer {url} within {timeout:.0f}s; "
                    f"see {child.log_path}\n{child.log_tail()}"
                )
            time.sleep(_POLL_S)

    def _died(self, child: Child) -> str:
        return (
            f"{child.name} exited with code {child.exit_code}; see {child.log_path}; "
            f"last lines:\n{child.log_tail()}"
        )

    def _start_all(self) -> None:
        s = self.settings
        env = child_env(s, self.data_dir)
        db = DynamoDBLocal(
            port=s.aws_port,
            host=s.host,
            data_dir=self.data_dir / "dynamodb",
            manifest_dir=s.dynamodb_local_dir,
        )
        db_child = self._spawn("dynamodb", db.command(), env)
        try:
            wait_until_ready(s.local_endpoint_url, s.launcher_ready_timeout_s, db_child.process)
        except (ServerExited, TimeoutError) as exc:
            raise LaunchError(f"{exc}\n{self._died(db_child)}") from exc
        say(f"DynamoDB Local answers at {s.local_endpoint_url}")

        local = s.model_copy(update={"aws_endpoint_url": s.local_endpoint_url})
        report = provision_up(
            local, with_lambda=False, clients=make_clients(local, LOCAL_CREDENTIALS)
        )
        say("tables: " + ", ".join(f"{c.name} {c.action}" for c in report.changes))

        if self.options.stream_runner:
            # The runner gives its function the function's environment itself (infra.esm.handlers).
            runner = self._spawn("stream-runner", [sys.executable, "-m", "infra.esm"], env)
            time.sleep(1.0)  # it has no health endpoint: it must at least survive its start-up
            if runner.exit_code is not None:
                raise LaunchError(self._died(runner))
        if self.options.api:
            api = self._spawn("model_api", [sys.executable, "-m", "model_api"], env)
            self._wait_http(api, f"http://127.0.0.1:{s.api_port}/health/ready")
        if self.options.ui:
            ui = self._spawn("dashboard", [sys.executable, "-m", "dashboard"], env)
            self._wait_http(ui, f"http://127.0.0.1:{s.ui_port}/")

    def _print_ready(self) -> None:
        s = self.settings
        lines = []
        if self.options.ui:
            lines.append(f"  Dashboard     http://127.0.0.1:{s.ui_port}/")
        if self.options.api:
            lines.append(f"  API docs      http://127.0.0.1:{s.api_port}/docs")
        lines += [
            f"  AWS endpoint  {s.local_endpoint_url}  (DynamoDB Local, listens on {s.host} only; "
            "`iris-stack aws-env` prints the variables for boto3/aws-cli)",
            f"  Tables        {s.score_table} (stream NEW_IMAGE), {s.retrain_table}, "
            f"{s.registry_table}",
            f"  Data          {self.data_dir}",
            f"  Logs          {self.log_dir}/*.log",
        ]
        if not self.options.stream_runner:
            lines.append("  (stream runner off: nothing copies records to the retrain table)")
        print("\n".join(lines), flush=True)
        say("ready. Press Ctrl-C to stop.")

    # ---- watch and stop ------------------------------------------------------------------
    def _watch(self) -> int:
        while True:
            for child in self.children:
                if child.exit_code is not None:
                    say(self._died(child))
                    say("stopping the others")
                    return 1
            time.sleep(_POLL_S)

    def _stop_all(self) -> None:
        if not self._stopping:
            self._stopping = True
            self._stop_signal_at = time.monotonic()
        for child in reversed(self.children):
            if child.process is not None:
                child.stop(self.settings.launcher_stop_grace_s, lambda: self._hurry)
        if self.children:
            say("all stopped")

    def run(self) -> int:
        """Start, watch until a signal or a child's death, stop. Returns the exit code."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            try:
                self._preflight()
                self.log_dir.mkdir(parents=True, exist_ok=True)
                self._start_all()
                self._print_ready()
                return self._watch()
            except _StopRequested:
                return 0
            except (LaunchError, PrerequisiteMissing, ProvisioningError, PortInUse) as exc:
                say(f"error: {exc}")
                return 1
            except (BotoCoreError, ClientError) as exc:
                say(f"error: provisioning the tables at {self.settings.local_endpoint_url}: {exc}")
                return 1
            except OSError as exc:  # e.g. the java binary cannot be executed
                say(f"error: {exc}")
                return 1
            finally:
                try:
                    self._stop_all()
                except _StopRequested:  # pragma: no cover - a signal between the checks
                    self._stop_all()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
