"""Training jobs claimed, not owned: a replica trains a model only while it holds the lease
``train#<id>`` in the registry, heartbeating it; a job whose replica died (its lease expired)
or was never started (queued on a replica that stopped) is claimed by another replica's
:meth:`JobClaims.watch` loop and trained again from its record: from scratch for a first
training, from the last saved weights for a retraining (those change only when a job
finishes). A restart never leaves a job ``failed``.

Each queued job carries a ``job`` token in its record; a claim runs only the job the record
names now (a stale queued copy of an older job, or one already finished elsewhere, is skipped).
Without a reachable registry a job trains unleased, as one replica would.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from typing import Any

from model_api.core.lease import Heartbeat, Leases
from model_api.models.store import ACTIVE, ModelStore

log = logging.getLogger(__name__)

PREFIX = "train#"


def lease_name(ident: int) -> str:
    return f"{PREFIX}{ident:010d}"


def new_job(resume: bool) -> dict[str, Any]:
    """The ``job`` field of a model record queued for training."""
    return {"token": secrets.token_hex(6), "resume": resume}


class Unleased:
    """Stands in for a heartbeat when the registry cannot be reached: never lost."""

    lost = threading.Event()

    def stop(self, release: bool = True) -> None:
        return None


class JobClaims:
    """This replica's claims on training jobs, and the loop that adopts orphans."""

    def __init__(self, store: ModelStore, leases: Leases | None, heartbeat_s: float) -> None:
        self.store = store
        self.leases = leases
        self.heartbeat_s = heartbeat_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self, ident: int, token: str) -> Heartbeat | Unleased | None:
        """Claim the job: a running heartbeat, or None when another replica holds it or the
        record no longer names this job (finished, deleted, or queued again since)."""
        if self.leases is None:
            return Unleased()
        try:
            lease = self.leases.acquire(lease_name(ident))
        except Exception as exc:  # no registry: train as the one replica
            log.warning("training model %s unleased: %s", ident, exc)
            return Unleased()
        if lease is None:
            return None
        beat = Heartbeat(self.leases, lease, self.heartbeat_s)
        try:
            rec = self.store.get(ident)
        except Exception:  # deleted meanwhile
            beat.stop()
            return None
        if rec["status"] not in ACTIVE or (rec.get("job") or {}).get("token") != token:
            beat.stop()
            return None
        return beat.start()

    def orphans(self, running: Callable[[int], bool]) -> list[dict[str, Any]]:
        """Records with an active job that no live replica holds (and not running here)."""
        if self.leases is None:
            return []
        now = self.leases.clock()
        held = {s.resource: s for s in self.leases.states(PREFIX)}
        out = []
        for rec in self.store.list():
            if rec["status"] not in ACTIVE or not rec.get("job") or running(rec["id"]):
                continue
            state = held.get(lease_name(rec["id"]))
            if state is None or state.expired(now):
                out.append(rec)
        return out

    def watch(self, adopt: Callable[[], None]) -> None:
        """Call ``adopt`` every heartbeat in a daemon thread until :meth:`stop`."""
        if self.leases is None or self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(self.heartbeat_s):
                try:
                    adopt()
                except Exception as exc:  # the registry may answer next time
                    log.warning("could not look for orphaned training jobs: %s", exc)

        self._thread = threading.Thread(target=loop, name="training-claims", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
