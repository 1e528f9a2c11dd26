"""Persisted background jobs (a retraining flow): one JSON file each, progress included.

A job that was queued or running when the service stopped — killed, or shut down mid-epoch —
is re-queued when the service starts again (``attempts`` and ``events`` say so), never marked
failed: its handler works from the job's own persisted plan, so running it again is safe.
Jobs run on the single training worker, ``models.queue`` (two fits at once would only slow both).
"""

from __future__ import annotations

import copy
import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from iris_common.clock import utc_now

from model_api.core.errors import ApiError, not_found
from model_api.core.files import atomic_write_json, read_json

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
Progress = Callable[..., bool]  # progress(**fields) -> False once the job must stop
Handler = Callable[[dict[str, Any], Progress], dict[str, Any]]
Submit = Callable[..., Future[None]]


class Interrupted(Exception):
    """The service is stopping: leave the job queued for the next start."""


class JobStore:
    """Jobs on disk and in memory; every change is written before it is visible."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._jobs: dict[str, dict[str, Any]] = {}
        for path in sorted(self.root.glob("*.json")):
            job = read_json(path)
            if job["status"] in ACTIVE:
                was = job["status"]
                job["status"] = "queued"
                job["events"].append(
                    {"at": utc_now(), "event": f"re-queued after a restart ({was})"}
                )
                atomic_write_json(path, job)
            self._jobs[job["job_id"]] = job

    def create(self, kind: str, model_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        now = utc_now()
        job = {
            "job_id": f"{''.join(ch for ch in now if ch.isalnum())}-{secrets.token_hex(3)}",
            "kind": kind,
            "model_id": model_id,
            "status": "queued",
            "progress": {"stage": "queued"},
            "attempts": 0,
            "result": None,
            "error": None,
            "events": [{"at": now, "event": "queued"}],
            "created_at": now,
            "updated_at": now,
            "payload": payload,
        }
        with self._lock:
            self._write(job)
        return self.public(job)

    def _write(self, job: dict[str, Any]) -> None:
        job["updated_at"] = utc_now()
        atomic_write_json(self.root / f"{job['job_id']}.json", job)
        self._jobs[job["job_id"]] = job

    def update(self, job_id: str, event: str | None = None, **changes: Any) -> None:
        with self._lock:
            job = copy.deepcopy(self._jobs[job_id])
            job.update(changes)
            if event:
                job["events"].append({"at": utc_now(), "event": event})
            self._write(job)

    def raw(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            if job_id not in self._jobs:
                raise not_found("job", job_id)
            return copy.deepcopy(self._jobs[job_id])

    @staticmethod
    def public(job: dict[str, Any]) -> dict[str, Any]:
        """The job without its (large) plan; the plan's summary stays."""
        out = {k: copy.deepcopy(v) for k, v in job.items() if k != "payload"}
        out["request"] = copy.deepcopy(job["payload"].get("request"))
        return out

    def get(self, job_id: str) -> dict[str, Any]:
        return self.public(self.raw(job_id))

    def list(self, model_id: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            jobs = [j for j in self._jobs.values() if model_id is None or j["model_id"] == model_id]
        return [self.public(j) for j in sorted(jobs, key=lambda j: j["job_id"], reverse=True)]

    def active_for(self, model_id: int, kind: str) -> dict[str, Any] | None:
        with self._lock:
            for job in self._jobs.values():
                if job["model_id"] == model_id and job["kind"] == kind and job["status"] in ACTIVE:
                    return self.public(job)
        return None

    def queued(self) -> list[str]:
        with self._lock:
            return sorted(j for j, job in self._jobs.items() if job["status"] == "queued")


class JobRunner:
    """Runs queued jobs with their kind's handler on the training worker."""

    def __init__(self, store: JobStore, submit: Submit, handlers: dict[str, Handler]) -> None:
        self.store = store
        self._submit = submit
        self._handlers = handlers
        self._stopping = threading.Event()

    def start(self) -> None:
        """Queue every job left queued (new, or re-queued after a restart)."""
        for job_id in self.store.queued():
            self.enqueue(job_id)

    def enqueue(self, job_id: str) -> None:
        self._submit(self._run, job_id)

    def stop(self) -> None:
        self._stopping.set()

    def _run(self, job_id: str) -> None:
        job = self.store.raw(job_id)
        if job["status"] != "queued" or self._stopping.is_set():
            return
        self.store.update(
            job_id,
            event="started",
            status="running",
            attempts=job["attempts"] + 1,
            progress={"stage": "starting"},
        )

        def progress(**fields: Any) -> bool:
            self.store.update(job_id, progress=fields)
            return not self._stopping.is_set()

        try:
            result = self._handlers[job["kind"]](self.store.raw(job_id), progress)
        except Interrupted:
            self.store.update(job_id, event="interrupted by a shutdown; re-queued", status="queued")
            return
        except Exception as exc:  # a job records its failure; it never dies silently
            log.exception("job %s failed", job_id)
            message = exc.message if isinstance(exc, ApiError) else f"{type(exc).__name__}: {exc}"
            self.store.update(job_id, event=f"failed: {message}", status="failed", error=message)
            return
        self.store.update(
            job_id,
            event="succeeded",
            status="succeeded",
            result=result,
            progress={"stage": "done"},
        )
