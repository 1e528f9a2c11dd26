"""The shared stage of the outbox: a run's pending records in the registry, so that any replica
can finish a run whose writer has stopped.

Before a batch test's response, its items (built once, with their deterministic keys: run id and
row position) are staged in the registry: compressed chunks under ``pk="outbox#<run>"``
(``sk`` = chunk number), then a header ``pk="outbox"``, ``sk=<run>`` (written last: a run is
visible to other replicas only once every chunk is there). The accepting replica holds the lease
``outbox#<run>`` and heartbeats it while its local writer (``Writer`` on the SQLite outbox) sends
the items; once they are all written it removes the chunks and the header and releases the lease.
If it dies, the lease expires and any replica acquires it, loads the chunks into its own local
outbox and finishes the run. A record re-sent by a successor is the identical item under the
identical key, so nothing is ever written twice under a different key.
"""

from __future__ import annotations

import contextlib
import json
import logging
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from iris_common.clock import utc_now

from model_api.core.lease import Lease, LeaseLost, Leases
from model_api.core.registry import Registry
from model_api.scorelog.outbox import Outbox, RunAlreadySubmitted

log = logging.getLogger(__name__)

HEADERS_PK = "outbox"
# A chunk's compressed items stay well below DynamoDB's 400 KB item limit.
CHUNK_BYTES = 256 * 1024
CHUNK_MAX_ITEMS = 2_000

Encoded = Sequence[tuple[int, str]]  # (position, item as JSON), as the local outbox stores them


class RunHeldElsewhere(RuntimeError):
    """Another replica already staged (and holds) this run id."""


def chunks_pk(run_id: str) -> str:
    return f"outbox#{run_id}"


def lease_name(run_id: str) -> str:
    return f"outbox#{run_id}"


def _pack(items: Encoded) -> list[bytes]:
    """Items in compressed JSON chunks, each under ``CHUNK_BYTES`` compressed."""
    chunks: list[bytes] = []
    batch: list[tuple[int, str]] = []
    size = 0
    for position, text in items:
        # JSON of the wire items compresses ~8:1; bound by the raw size to stay safe.
        if batch and (size + len(text) > CHUNK_BYTES * 4 or len(batch) >= CHUNK_MAX_ITEMS):
            chunks.append(zlib.compress(json.dumps(batch).encode(), 1))
            batch, size = [], 0
        batch.append((position, text))
        size += len(text)
    if batch:
        chunks.append(zlib.compress(json.dumps(batch).encode(), 1))
    return chunks


def _unpack(blob: bytes) -> list[tuple[int, str]]:
    return [(int(p), str(t)) for p, t in json.loads(zlib.decompress(blob))]


@dataclass(frozen=True)
class OpenRun:
    """A run staged in the registry and not finished yet."""

    run_id: str
    total: int
    chunks: int


class SharedOutbox:
    """Stage, load, finish and list runs in the registry; leases through ``leases``."""

    def __init__(self, registry: Registry, leases: Leases) -> None:
        self.registry = registry
        self.leases = leases

    def stage(self, run_id: str, items: Encoded) -> Lease:
        """Take the run's lease and stage every item; the header goes last. RunHeldElsewhere if
        the run id is staged or held already; any other failure leaves nothing staged."""
        lease = self.leases.acquire(lease_name(run_id))
        if lease is None:
            raise RunHeldElsewhere(f"run {run_id} is held by another replica")
        if self.registry.get(HEADERS_PK, run_id) is not None:
            self.leases.release(lease)
            raise RunHeldElsewhere(f"run {run_id} was staged already")
        try:
            chunks = _pack(items)
            self.registry.write_many(
                [(chunks_pk(run_id), f"{n:06d}", {"items": blob}) for n, blob in enumerate(chunks)]
            )
            self.registry.put_new(
                HEADERS_PK,
                run_id,
                {"total": len(items), "chunks": len(chunks), "submitted_at": utc_now()},
            )
        except BaseException:
            self.drop(run_id, lease)
            raise
        return lease

    def load(self, run_id: str) -> list[tuple[int, str]]:
        """Every staged item of the run, in position order."""
        items: list[tuple[int, str]] = []
        for _, chunk in self.registry.iter_query(chunks_pk(run_id)):
            items += _unpack(chunk["items"])
        return sorted(items)

    def open_runs(self) -> list[OpenRun]:
        """Runs staged and not finished, oldest id first."""
        return [
            OpenRun(run_id, int(h["total"]), int(h["chunks"]))
            for run_id, h in self.registry.query(HEADERS_PK)
        ]

    def drop(self, run_id: str, lease: Lease) -> None:
        """The run is finished (every record written) or was never accepted: remove its stage
        (header first, so no replica adopts it meanwhile) and release the lease."""
        self.registry.delete(HEADERS_PK, run_id)
        keys = [(chunks_pk(run_id), sk) for sk in self.registry.keys(chunks_pk(run_id))]
        self.registry.write_many(deletes=keys)
        self.leases.release(lease)


class Steward:
    """One replica's side of the shared outbox: which runs it holds, which it could not share
    yet (the registry did not answer), and the periodic ``tend`` that heartbeats, finishes,
    shares late and adopts. Every method runs on the local outbox's one writing thread."""

    def __init__(self, shared: SharedOutbox, outbox: Outbox) -> None:
        self.shared = shared
        self.outbox = outbox
        self.held: dict[str, Lease] = {}
        self.unshared: set[str] = set()
        # called with a run id once this replica has written all of it (the run store records
        # the final counts, so replicas whose outbox never held the run answer them too)
        self.on_finished: Callable[[str], None] | None = None

    def resume(self) -> None:
        """At start: runs left pending in the local outbox are shared (or found held) next."""
        self.unshared |= set(self.outbox.pending_runs())

    def accepted(self, run_id: str, items: Encoded) -> None:
        """A run just committed to the local outbox: stage it before the response.

        RunAlreadySubmitted (and the local copy removed) if another replica has this run id;
        if the registry fails, the run stays durable here and is shared by a later ``tend``.
        """
        try:
            self.held[run_id] = self.shared.stage(run_id, items)
        except RunHeldElsewhere as exc:
            self.outbox.remove_run(run_id)
            raise RunAlreadySubmitted(str(exc)) from exc
        except Exception as exc:  # registry unavailable: durable locally, shared later
            log.warning("run %s not staged in the registry yet: %s", run_id, exc)
            self.unshared.add(run_id)

    def tend(self) -> bool:
        """Heartbeat held runs, drop finished ones, share late ones, adopt orphans; True when a
        run was adopted (the writer has new items)."""
        for run_id, lease in list(self.held.items()):
            self._keep_or_finish(run_id, lease)
        for run_id in list(self.unshared):
            self._share_late(run_id)
        try:
            return any(self._adopt(run) for run in self.shared.open_runs())
        except Exception as exc:
            log.warning("could not list the registry's open runs: %s", exc)
            return False

    def close(self) -> None:
        """At stop: drop finished runs, release the rest so another replica takes them now."""
        for run_id, lease in list(self.held.items()):
            try:
                if self._done(run_id):
                    self.shared.drop(run_id, lease)
                else:
                    self.shared.leases.release(lease)
            except Exception as exc:  # the lease expires instead
                log.warning("could not hand over run %s: %s", run_id, exc)
        self.held.clear()

    def _done(self, run_id: str) -> bool:
        counts = self.outbox.counts(run_id)
        return counts is None or counts.pending == 0

    def _keep_or_finish(self, run_id: str, lease: Lease) -> None:
        try:
            if self._done(run_id):
                self.shared.drop(run_id, lease)
                del self.held[run_id]
                if self.on_finished is not None:
                    self.on_finished(run_id)
            else:
                self.held[run_id] = self.shared.leases.renew(lease)
        except LeaseLost:
            log.warning("run %s was taken over by another replica", run_id)
            del self.held[run_id]
        except Exception as exc:  # the registry did not answer: again next time
            log.warning("could not renew the lease of run %s: %s", run_id, exc)

    def _share_late(self, run_id: str) -> None:
        try:
            if self._done(run_id):
                self.unshared.discard(run_id)
                return
            self.held[run_id] = self.shared.stage(run_id, self.outbox.pending_items(run_id))
            self.unshared.discard(run_id)
        except RunHeldElsewhere:  # staged by this replica before a restart, or adopted
            self.unshared.discard(run_id)
        except Exception as exc:
            log.warning("run %s still not staged in the registry: %s", run_id, exc)

    def _adopt(self, run: OpenRun) -> bool:
        if run.run_id in self.held:
            return False
        state = self.shared.leases.state(lease_name(run.run_id))
        if state is not None and not state.expired(self.shared.leases.clock()):
            return False
        lease = self.shared.leases.acquire(lease_name(run.run_id))
        if lease is None:
            return False
        items = self.shared.load(run.run_id)
        with contextlib.suppress(RunAlreadySubmitted):  # this replica has it already
            self.outbox.add_run(run.run_id, items)
        self.held[run.run_id] = lease
        log.info("adopted run %s (%d records) from a stopped replica", run.run_id, len(items))
        return True
