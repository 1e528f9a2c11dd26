"""Runs the jobs of ``models.jobs`` on the training worker (``models.queue``: two fits at once
would only slow both), claimed, not owned.

A replica runs a job only while it holds the lease ``job#<job_id>`` (``core.lease``),
heartbeating it; only the holder writes the job, each write fenced by the lease's generation
(a holder paused past its lease cannot overwrite its successor's progress). A job whose
replica died (lease expired) or never started it (queued on a replica that stopped) is an
orphan: every replica's watch loop (each heartbeat, and once at start) claims orphans and runs
them again from their plan. A job found ``running`` when claimed was cut off: it is logged
"re-queued after a restart" and run again (``attempts`` counts every start). A shutdown
mid-job leaves it queued and releases the lease, so another replica (or the next start) takes
it at once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from model_api.core.errors import ApiError
from model_api.core.lease import Heartbeat, Leases
from model_api.models.jobs import ACTIVE, Handler, Interrupted, JobStore, Submit, Superseded

log = logging.getLogger(__name__)

PREFIX = "job#"


def lease_name(job_id: str) -> str:
    return f"{PREFIX}{job_id}"


class JobRunner:
    """Claims queued and orphaned jobs and runs them with their kind's handler."""

    def __init__(
        self,
        store: JobStore,
        submit: Submit,
        handlers: dict[str, Handler],
        leases: Leases,
        heartbeat_s: float,
    ) -> None:
        self.store = store
        self.leases = leases
        self.heartbeat_s = heartbeat_s
        self._submit = submit
        self._handlers = handlers
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._here: set[str] = set()  # enqueued or running in this process
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Claim every orphan now, then every heartbeat in a daemon thread until :meth:`stop`."""
        self.adopt()
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stopping.wait(self.heartbeat_s):
                try:
                    self.adopt()
                except Exception as exc:  # the registry may answer next time
                    log.warning("could not look for orphaned jobs: %s", exc)

        self._thread = threading.Thread(target=loop, name="job-claims", daemon=True)
        self._thread.start()

    def adopt(self) -> None:
        """Enqueue every active job no live replica holds (and not already here)."""
        now = self.leases.clock()
        held = {s.resource: s for s in self.leases.states(PREFIX)}
        for job in self.store.active():
            with self._lock:
                if job["job_id"] in self._here:
                    continue
            state = held.get(lease_name(job["job_id"]))
            if state is None or state.expired(now):
                self.enqueue(job["job_id"])

    def enqueue(self, job_id: str) -> None:
        with self._lock:
            self._here.add(job_id)
        try:
            self._submit(self._run, job_id)
        except Exception:
            self._forget(job_id)
            raise

    def stop(self) -> None:
        self._stopping.set()

    def _forget(self, job_id: str) -> None:
        with self._lock:
            self._here.discard(job_id)

    def _claim(self, job_id: str) -> Heartbeat | None:
        """The running heartbeat on the job's lease, or None (held elsewhere, or finished)."""
        lease = self.leases.acquire(lease_name(job_id))
        if lease is None:
            return None
        beat = Heartbeat(self.leases, lease, self.heartbeat_s)
        try:
            status = self.store.get(job_id)["status"]
        except Exception:  # gone meanwhile
            status = "gone"
        if status not in ACTIVE:
            beat.stop()
            return None
        return beat.start()

    def _run(self, job_id: str) -> None:
        try:
            if self._stopping.is_set():
                return
            beat = self._claim(job_id)
            if beat is None:
                return
            try:
                self._attempt(job_id, beat)
            finally:
                beat.stop()
        finally:
            self._forget(job_id)

    def _attempt(self, job_id: str, beat: Heartbeat) -> None:
        try:
            self._attempt_fenced(job_id, beat)
        except Superseded:  # a newer holder wrote the job: it is that holder's now
            log.warning("job %s: a newer lease holder took it over; stopping here", job_id)

    def _attempt_fenced(self, job_id: str, beat: Heartbeat) -> None:
        """One run of the job; every write carries this holder's lease generation, so a
        write after a newer holder's raises ``Superseded`` instead of landing."""
        fence = beat.lease.generation
        job = self.store.raw(job_id)
        if job["status"] == "running":  # its replica stopped mid-job
            self.store.update(job_id, fence=fence, event="re-queued after a restart (running)")
        self.store.update(
            job_id,
            fence=fence,
            event=f"started on {self.leases.owner}",
            status="running",
            attempts=job["attempts"] + 1,
            progress={"stage": "starting"},
            replica=self.leases.owner,
        )
        superseded = threading.Event()

        def gone() -> bool:  # another holder has, or may have, taken the job over
            return beat.lost.is_set() or superseded.is_set()

        def progress(**fields: Any) -> bool:
            if gone():
                return False
            try:
                self.store.update(job_id, fence=fence, progress=fields)
            except Superseded:
                superseded.set()
                return False
            return not self._stopping.is_set()

        try:
            result = self._handlers[job["kind"]](self.store.raw(job_id), progress)
        except Interrupted:
            if not gone():
                self.store.update(
                    job_id,
                    fence=fence,
                    event="interrupted by a shutdown; re-queued",
                    status="queued",
                )
            return
        except Exception as exc:  # a job records its failure; it never dies silently
            log.exception("job %s failed", job_id)
            if gone():
                return
            message = exc.message if isinstance(exc, ApiError) else f"{type(exc).__name__}: {exc}"
            self.store.update(
                job_id, fence=fence, event=f"failed: {message}", status="failed", error=message
            )
            return
        if gone():  # the new holder runs it again
            log.warning("job %s: the lease was lost; its new holder finishes it", job_id)
            return
        self.store.update(
            job_id,
            fence=fence,
            event="succeeded",
            status="succeeded",
            result=result,
            progress={"stage": "done"},
        )
