"""Background jobs (a retraining flow) shared by every replica, progress included.

Each job is a registry document (``pk="job"``, ``sk=<job_id>``, sorted by time) and its plan
(the frozen training input, too big for an item) an object ``jobs/<job_id>.json``, written
first. Any replica lists and reads every job; the replica that holds the job's lease
(``models.job_runner``) is the only one that writes it while it runs. A job that was queued or
running when its replica stopped is claimed and run again by another replica (or the next start),
``attempts`` and ``events`` say so; it is never marked failed by a restart: its handler works
from the job's own persisted plan, so running it again is safe.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from iris_common.clock import utc_now

from model_api.core.documents import get_doc, put_doc, query_docs
from model_api.core.errors import not_found
from model_api.core.objects import ObjectMissing, ObjectStore, missing_blob
from model_api.core.registry import ConditionFailed, Registry

ACTIVE = ("queued", "running")
KIND = "job"
Progress = Callable[..., bool]  # progress(**fields) -> False once the job must stop
Handler = Callable[[dict[str, Any], Progress], dict[str, Any]]
Submit = Callable[..., Future[None]]


class Interrupted(Exception):
    """The service is stopping (or the job's lease was lost): leave the job for a replica."""


class Superseded(Interrupted):
    """A newer holder of the job's lease has written the job: this holder must stop without
    writing (it was paused past its lease, say)."""


FENCE = "fence"  # the item attribute: the lease generation of the job's latest writer


def _plan_key(job_id: str) -> str:
    return f"jobs/{job_id}.json"


class JobStore:
    """Jobs in the registry (their plans in the object store); every read is current."""

    def __init__(self, registry: Registry, objects: ObjectStore) -> None:
        self.registry = registry
        self.objects = objects

    def create(self, kind: str, model_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        """A new queued job; its id is sortable by time and unique across replicas (a
        conditional put: a clash draws a new suffix)."""
        while True:
            now = utc_now()
            job_id = f"{''.join(ch for ch in now if ch.isalnum())}-{secrets.token_hex(3)}"
            job = {
                "job_id": job_id,
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
                "request": copy.deepcopy(payload.get("request")),
            }
            self.objects.put(_plan_key(job_id), json.dumps(payload).encode())
            try:
                put_doc(self.registry, KIND, job_id, job, new=True)
            except ConditionFailed:
                continue
            return copy.deepcopy(job)

    def update(
        self, job_id: str, *, fence: int, event: str | None = None, **changes: Any
    ) -> dict[str, Any]:
        """Apply ``changes`` (and log ``event``) as the holder of the job's lease generation
        ``fence``; ``Superseded`` once a later generation has written the job, so a holder
        that lost its lease cannot overwrite its successor's progress."""
        job = self._doc(job_id)
        job.update(changes)
        if event:
            job["events"].append({"at": utc_now(), "event": event})
        job["updated_at"] = utc_now()
        try:
            put_doc(
                self.registry,
                KIND,
                job_id,
                job,
                extra={FENCE: fence},
                condition="attribute_not_exists(#f) OR #f <= :f",
                names={"#f": FENCE},
                values={":f": fence},
            )
        except ConditionFailed as exc:
            raise Superseded(f"job {job_id} has a newer lease holder than {fence}") from exc
        return job

    def _doc(self, job_id: str) -> dict[str, Any]:
        job = get_doc(self.registry, KIND, job_id)
        if job is None:
            raise not_found("job", job_id)
        return job

    def raw(self, job_id: str) -> dict[str, Any]:
        """The job with its plan (``payload``), as its handler needs it."""
        job = self._doc(job_id)
        try:
            job["payload"] = json.loads(self.objects.get(_plan_key(job_id)))
        except ObjectMissing as exc:
            raise missing_blob(f"job {job_id}", _plan_key(job_id)) from exc
        return job

    @staticmethod
    def public(job: dict[str, Any]) -> dict[str, Any]:
        """The job without its (large) plan; the plan's request stays."""
        return {k: copy.deepcopy(v) for k, v in job.items() if k != "payload"}

    def get(self, job_id: str) -> dict[str, Any]:
        return self.public(self._doc(job_id))

    def list(self, model_id: int | None = None) -> list[dict[str, Any]]:
        return [
            self.public(j)
            for _, j in query_docs(self.registry, KIND, descending=True)
            if model_id is None or j["model_id"] == model_id
        ]

    def active_for(self, model_id: int, kind: str) -> dict[str, Any] | None:
        for job in self.list(model_id):
            if job["kind"] == kind and job["status"] in ACTIVE:
                return job
        return None

    def active(self) -> list[dict[str, Any]]:
        """Every queued or running job, oldest first."""
        return [j for j in reversed(self.list()) if j["status"] in ACTIVE]
