"""One supervised child process of the stack: its own process group, its log file, its stop.

A child runs in its own process group so it can be stopped as a whole (SIGTERM, then SIGKILL after
a grace period), and on Linux it gets SIGTERM if the launcher itself is killed, so nothing is left
orphaned.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from iris_common.clock import utc_now


def say(message: str) -> None:
    """One line of the launcher's own output."""
    print(f"iris-stack: {message}", flush=True)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM if the launcher itself is killed, so nothing is orphaned."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    """One supervised process, in its own process group so it can be stopped as a whole."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = field(default=None, init=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            stamp = utc_now("seconds")
            log.write(f"\n===== {stamp} iris-stack starts: {shlex.join(self.cmd)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.cmd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        say(f"started {self.name} (pid {self.process.pid}), log {self.log_path}")

    @property
    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, grace: float, hurry: Callable[[], bool]) -> None:
        """SIGTERM to the group, wait up to ``grace`` seconds, then SIGKILL."""
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while proc.poll() is None and time.monotonic() < deadline and not hurry():
                time.sleep(0.1)
        if proc.poll() is None:
            why = "on request" if hurry() else f"after {grace:.0f}s without stopping"
            say(f"killing {self.name} ({why})")
        self._signal_group(signal.SIGKILL)  # also reaps anything it left in its group
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)

    def _signal_group(self, sig: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"    | {line}" for line in text[-lines:])
