"""Batch-test runs: one JSON file per run (``<root>/<run_id>.json``), summaries kept in memory.

The run file holds the per-row lists too, so a run can be reread after a restart; listings
return summaries (the run without its per-row lists). A run's ``logging`` is read live from the
score log (its outbox is durable), so it is current without rewriting run files.
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from model_api.core.errors import not_found
from model_api.core.files import atomic_write_json, read_json

ROW_LISTS = ("actual", "predicted", "probability", "flipped")
LogStatus = Callable[[str], dict[str, Any]]


_run_id_lock = threading.Lock()
_run_id_stamp = ""
_run_id_used: set[str] = set()


def new_run_id(now: datetime | None = None) -> str:
    """A run id sortable by time and unique (``20261125T031509123Z-7f3a``).

    The suffix is random, and within one process a suffix is never reused in the same
    millisecond, so two runs created in the same millisecond never share a partition key (the
    seed keyed by time of day and lost records that way). Across processes the chance is
    1 in 65,536 per pair of runs created in the very same millisecond; the outbox refuses a
    run id it already holds (``RunAlreadySubmitted``), so such a clash is loud, not silent.
    """
    global _run_id_stamp
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = f"{moment:%Y%m%dT%H%M%S}{moment.microsecond // 1000:03d}Z"
    with _run_id_lock:
        if stamp != _run_id_stamp:
            _run_id_stamp = stamp
            _run_id_used.clear()
        while True:
            suffix = secrets.token_hex(2)
            if suffix not in _run_id_used:
                _run_id_used.add(suffix)
                return f"{stamp}-{suffix}"


def summary(run: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in run.items() if k not in ROW_LISTS}


class RunStore:
    """Thread-safe store of runs, newest first in listings (run ids sort by time)."""

    def __init__(self, root: Path, status: LogStatus | None = None) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._status = status
        self._lock = threading.RLock()
        self._summaries: dict[str, dict[str, Any]] = {}
        for path in self.root.glob("*.json"):
            run = read_json(path)
            self._summaries[run["run_id"]] = summary(run)

    def new_id(self) -> str:
        """A fresh run id (``new_run_id``) that no stored run has."""
        run_id = new_run_id()
        while self.exists(run_id):
            run_id = new_run_id()
        return run_id

    def exists(self, run_id: str) -> bool:
        with self._lock:
            return run_id in self._summaries

    def save(self, run: dict[str, Any]) -> None:
        with self._lock:
            atomic_write_json(self.root / f"{run['run_id']}.json", run)
            self._summaries[run["run_id"]] = summary(run)

    def _live(self, s: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(s)
        if self._status is not None and s.get("logging", {}).get("state") != "disabled":
            status = self._status(s["run_id"])
            if status.get("state") != "unknown":
                out["logging"] = status
        return out

    def get(self, run_id: str) -> dict[str, Any]:
        with self._lock:
            if run_id not in self._summaries:
                raise not_found("run", run_id)
            s = self._summaries[run_id]
        return self._live(s)

    def full(self, run_id: str) -> dict[str, Any]:
        """The run with its per-row lists (read from its file)."""
        self.get(run_id)
        return read_json(self.root / f"{run_id}.json")

    def list(self, model_id: int | None, limit: int, offset: int) -> dict[str, Any]:
        with self._lock:
            runs = [
                s for s in self._summaries.values() if model_id is None or s["model_id"] == model_id
            ]
        runs.sort(key=lambda s: s["run_id"], reverse=True)
        return {"items": [self._live(s) for s in runs[offset : offset + limit]], "total": len(runs)}
