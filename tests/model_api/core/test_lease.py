"""Leases on a real DynamoDB API (DynamoDB Local by default): one holder at a time, renewal only
by the holder, takeover after expiry, fencing by generation, the heartbeat thread."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from model_api.core.lease import Heartbeat, LeaseLost, Leases, heartbeat
from model_api.core.registry import Registry

pytestmark = pytest.mark.integration


class Clock:
    """A wall clock the test moves by hand, so expiry is decided, not waited for."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def registry(aws_endpoint: Any, provisioned_tables: dict[str, str]) -> Registry:
    return Registry.connect(provisioned_tables["registry"], aws_endpoint.url, aws_endpoint.region)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_one_holder_at_a_time_and_takeover_after_expiry(registry: Registry, clock: Clock) -> None:
    a = Leases(registry, "replica-a", ttl=10, clock=clock)
    b = Leases(registry, "replica-b", ttl=10, clock=clock)

    first = a.acquire("job#1")
    assert first is not None and first.owner == "replica-a" and first.generation == 1
    assert b.acquire("job#1") is None  # held and unexpired
    assert a.acquire("job#1") is not None  # the owner may re-acquire (e.g. after a restart)

    clock.now += 5
    renewed = a.renew(a.acquire("job#1"))  # type: ignore[arg-type]
    clock.now += 9  # 14 s after the first acquisition, 9 s after the renewal: still held
    assert b.acquire("job#1") is None

    clock.now += 2  # expired now: b takes over with a new generation
    taken = b.acquire("job#1")
    assert taken is not None and taken.owner == "replica-b"
    assert taken.generation > renewed.generation
    with pytest.raises(LeaseLost):
        a.renew(renewed)  # the old holder cannot renew …
    assert a.release(renewed) is False  # … nor release the new holder's lease
    assert b.holds(taken) and not a.holds(renewed)
    assert b.release(taken) is True
    assert registry.get("lease", "job#1") is None
    assert a.acquire("job#1") is not None  # free again


def test_two_contenders_at_once_only_one_wins(registry: Registry, aws_endpoint: Any) -> None:
    """Sixteen threads on two clients race for one lease: exactly one gets it."""
    other = Registry.connect(registry.table, aws_endpoint.url, aws_endpoint.region)
    contenders = [Leases((registry, other)[i % 2], f"replica-{i}", ttl=30) for i in range(16)]
    start = threading.Barrier(len(contenders))

    def race(leases: Leases) -> bool:
        start.wait()
        return leases.acquire("outbox#42") is not None

    with ThreadPoolExecutor(max_workers=len(contenders)) as pool:
        won = list(pool.map(race, contenders))
    assert won.count(True) == 1
    winner = contenders[won.index(True)].owner
    assert registry.get("lease", "outbox#42")["owner"] == winner  # type: ignore[index]


def test_same_owner_after_a_lost_generation_cannot_renew_it(
    registry: Registry, clock: Clock
) -> None:
    """Fencing: a lease re-acquired (new generation) invalidates the old handle, even for the
    same replica id (a restarted process with the same name)."""
    a = Leases(registry, "replica-a", ttl=10, clock=clock)
    old = a.acquire("run#7")
    new = a.acquire("run#7")
    assert old is not None and new is not None and new.generation == old.generation + 1
    with pytest.raises(LeaseLost):
        a.renew(old)
    assert a.renew(new).generation == new.generation


def test_states_list_leases_by_prefix(registry: Registry, clock: Clock) -> None:
    a = Leases(registry, "replica-a", ttl=10, clock=clock)
    a.acquire("job#1")
    a.acquire("job#2")
    a.acquire("outbox#1")
    clock.now += 11
    states = a.states("job#")
    assert [s.resource for s in states] == ["job#1", "job#2"]
    assert all(s.expired(clock.now) and s.owner == "replica-a" for s in states)


def test_bad_ttl_is_refused(registry: Registry) -> None:
    with pytest.raises(ValueError):
        Leases(registry, "replica-a", ttl=0)


def test_heartbeat_keeps_the_lease_past_its_ttl_and_releases_it(registry: Registry) -> None:
    a = Leases(registry, "replica-a", ttl=0.8)
    b = Leases(registry, "replica-b", ttl=0.8)
    lease = a.acquire("job#9")
    assert lease is not None
    with heartbeat(a, lease, interval=0.2) as beat:
        time.sleep(2.0)  # 2.5 ttls
        assert b.acquire("job#9") is None
        assert not beat.lost.is_set()
    assert registry.get("lease", "job#9") is None  # released on the way out
    assert b.acquire("job#9") is not None


def test_heartbeat_notices_a_takeover(registry: Registry, clock: Clock) -> None:
    a = Leases(registry, "replica-a", ttl=10, clock=clock)
    b = Leases(registry, "replica-b", ttl=10, clock=clock)
    lease = a.acquire("job#10")
    assert lease is not None
    beat = Heartbeat(a, lease, interval=0.05)
    clock.now += 11  # a paused past its lease (e.g. a long GC or a frozen VM)
    assert b.acquire("job#10") is not None
    beat.start()
    assert beat.lost.wait(5)
    beat.stop()  # does not release b's lease
    assert registry.get("lease", "job#10")["owner"] == "replica-b"  # type: ignore[index]
