"""Leases: which replica works on a resource (a training job, a run's outbox) right now.

A lease is one registry item (``pk="lease"``, ``sk=<resource>``) with its ``owner`` (a replica
id), ``expires_at`` (epoch seconds) and a ``generation`` that grows with every acquisition. All
changes are conditional writes, so two replicas never both hold one:

- ``acquire`` succeeds if there is no lease, it has expired, or the caller already owns it;
- ``renew`` (the heartbeat) only while the caller still owns that very generation;
- ``release`` likewise; a lease whose owner died simply expires and another replica takes it.

The generation is a fencing token: work done under a lease can be checked against it (a replica
that lost its lease while paused must not overwrite its successor's progress). Expiry uses wall
clocks, so the lease time must dwarf the replicas' clock skew (seconds on NTP-synced hosts).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from model_api.core.registry import ConditionFailed, Registry

log = logging.getLogger(__name__)

LEASE_PK = "lease"


class LeaseLost(RuntimeError):
    """The lease expired and another replica took it (or it was released)."""


@dataclass(frozen=True)
class Lease:
    """A lease held by ``owner`` until ``expires_at`` (epoch seconds)."""

    resource: str
    owner: str
    generation: int
    expires_at: float


@dataclass(frozen=True)
class LeaseState:
    """What the registry says of a resource's lease, held or not."""

    resource: str
    owner: str
    generation: int
    expires_at: float

    def expired(self, now: float) -> bool:
        return self.expires_at <= now


class Leases:
    """Acquire, renew and release leases for one replica (``owner``), each lasting ``ttl`` s."""

    def __init__(
        self,
        registry: Registry,
        owner: str,
        ttl: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl <= 0:
            raise ValueError("a lease must last a positive time")
        self.registry = registry
        self.owner = owner
        self.ttl = ttl
        self.clock = clock

    def acquire(self, resource: str) -> Lease | None:
        """The lease on ``resource`` if it is free, expired or already ours; else None."""
        now = self.clock()
        try:
            item = self.registry.update(
                LEASE_PK,
                resource,
                set={"owner": self.owner, "expires_at": now + self.ttl},
                add={"generation": 1},
                condition="attribute_not_exists(pk) OR #exp <= :now OR #own = :me",
                names={"#exp": "expires_at", "#own": "owner"},
                values={":now": now, ":me": self.owner},
            )
        except ConditionFailed:
            return None
        return Lease(resource, self.owner, int(item["generation"]), float(item["expires_at"]))

    def renew(self, lease: Lease) -> Lease:
        """Extend ``lease`` by ``ttl`` from now; LeaseLost if it is no longer ours."""
        expires = self.clock() + self.ttl
        try:
            self.registry.update(
                LEASE_PK,
                lease.resource,
                set={"expires_at": expires},
                **self._ours(lease),
            )
        except ConditionFailed as exc:
            raise LeaseLost(f"lease on {lease.resource} lost by {self.owner}") from exc
        return Lease(lease.resource, lease.owner, lease.generation, expires)

    def release(self, lease: Lease) -> bool:
        """Give ``lease`` up (False if it was no longer ours: nothing changed then)."""
        try:
            self.registry.delete(LEASE_PK, lease.resource, **self._ours(lease))
        except ConditionFailed:
            return False
        return True

    def holds(self, lease: Lease) -> bool:
        """True while ``lease`` is still ours and unexpired (a strongly consistent read)."""
        state = self.state(lease.resource)
        return (
            state is not None
            and state.owner == lease.owner
            and state.generation == lease.generation
            and not state.expired(self.clock())
        )

    def state(self, resource: str) -> LeaseState | None:
        item = self.registry.get(LEASE_PK, resource)
        return None if item is None else _state(resource, item)

    def states(self, prefix: str) -> list[LeaseState]:
        """Every lease whose resource starts with ``prefix`` (e.g. ``"job#"``)."""
        return [_state(sk, item) for sk, item in self.registry.query(LEASE_PK, prefix=prefix)]

    def _ours(self, lease: Lease) -> dict[str, Any]:
        return {
            "condition": "#own = :me AND #gen = :gen",
            "names": {"#own": "owner", "#gen": "generation"},
            "values": {":me": lease.owner, ":gen": lease.generation},
        }


def _state(resource: str, item: dict[str, Any]) -> LeaseState:
    return LeaseState(
        resource, str(item["owner"]), int(item["generation"]), float(item["expires_at"])
    )


class Heartbeat:
    """Renews a lease every ``interval`` seconds in a daemon thread until stopped.

    ``lost`` is set once the lease is lost (taken over, or not renewed before it expired
    because the registry did not answer): the work under it must stop without writing more.
    ``lease`` is always the latest renewal.
    """

    def __init__(self, leases: Leases, lease: Lease, interval: float) -> None:
        self.leases = leases
        self.lease = lease
        self.interval = interval
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{lease.resource}", daemon=True
        )

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.lease = self.leases.renew(self.lease)
            except LeaseLost:
                log.warning("lease on %s lost", self.lease.resource)
                self.lost.set()
                return
            except Exception as exc:  # the registry did not answer: try again until expiry
                if self.leases.clock() >= self.lease.expires_at:
                    log.warning("lease on %s expired unrenewed: %s", self.lease.resource, exc)
                    self.lost.set()
                    return

    def stop(self, release: bool = True) -> None:
        """Stop renewing; with ``release``, give the lease up so others need not wait."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.interval + 15)
        if release and not self.lost.is_set():
            try:
                self.leases.release(self.lease)
            except Exception as exc:  # it will expire instead
                log.warning("could not release the lease on %s: %s", self.lease.resource, exc)


@contextlib.contextmanager
def heartbeat(leases: Leases, lease: Lease, interval: float) -> Iterator[Heartbeat]:
    """Renew ``lease`` while inside; release it on the way out (unless it was lost)."""
    beat = Heartbeat(leases, lease, interval).start()
    try:
        yield beat
    finally:
        beat.stop()
