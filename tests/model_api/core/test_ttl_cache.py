"""The scoring path's cache: values kept ``seconds``, dropped on change, errors never kept."""

from __future__ import annotations

import pytest
from model_api.core.ttl_cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_kept_for_its_seconds_then_read_again() -> None:
    clock, loads = Clock(), []
    cache: TtlCache[int] = TtlCache(2.0, clock)
    load = lambda: loads.append(1) or len(loads)  # noqa: E731
    assert cache.get("k", load) == 1
    clock.now += 1.9
    assert cache.get("k", load) == 1 and len(loads) == 1
    clock.now += 0.2
    assert cache.get("k", load) == 2


def test_drop_makes_the_next_read_fresh() -> None:
    cache: TtlCache[str] = TtlCache(60.0, Clock())
    assert cache.get("k", lambda: "old") == "old"
    assert cache.get("k", lambda: "new") == "old"
    cache.drop("k")
    assert cache.get("k", lambda: "new") == "new"


def test_a_load_that_overlapped_a_drop_is_not_kept() -> None:
    """A score that read the promotion just before this replica promoted must not keep the old
    version for another window."""
    cache: TtlCache[str] = TtlCache(60.0, Clock())

    def read_then_promotion_lands() -> str:
        cache.drop("k")  # the promotion, while this read was in flight
        return "old"

    assert cache.get("k", read_then_promotion_lands) == "old"
    assert cache.get("k", lambda: "new") == "new"


def test_errors_and_refused_values_are_not_kept() -> None:
    cache: TtlCache[tuple[str, int | None]] = TtlCache(60.0, Clock())

    def missing() -> tuple[str, int | None]:
        raise KeyError("model 9")

    with pytest.raises(KeyError):
        cache.get("k", missing)
    keep = lambda v: v[1] is not None  # noqa: E731
    assert cache.get("k", lambda: ("m", None), keep) == ("m", None)
    assert cache.get("k", lambda: ("m", 1), keep) == ("m", 1)
    assert cache.get("k", lambda: ("m", 2), keep) == ("m", 1)


def test_zero_seconds_reads_every_time() -> None:
    cache: TtlCache[int] = TtlCache(0.0, Clock())
    assert cache.get("k", lambda: 1) == 1
    assert cache.get("k", lambda: 2) == 2
