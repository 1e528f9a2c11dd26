"""Bounded polling, shared by the tests and the benchmarks (no pytest here: bench imports it).

A wait that runs out raises ``NotReady``, an ``AssertionError``, so pytest reports a failed test
(not an error in the test's own code) and a benchmark stops with the reason.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


class NotReady(AssertionError):
    """What was waited for did not happen in time (or its process died first)."""


def wait_for(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.3) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise NotReady(f"timed out after {timeout} s waiting for {what}")


def _tail(log: Path | None) -> str:
    return f": {log.read_text(errors='replace')[-3000:]}" if log is not None else ""


def wait_http(
    url: str,
    proc: subprocess.Popen[Any],
    timeout: float,
    log: Path | None = None,
    interval: float = 0.3,
) -> None:
    """Poll ``url`` until it answers 200; the process exiting first fails at once, and both
    failures carry the tail of its ``log`` (the reason a service did not start is in there)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NotReady(f"{proc.args} exited with {proc.returncode} before {url}{_tail(log)}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    raise NotReady(f"{url} not ready within {timeout:.0f} s{_tail(log)}")
