"""A small time-bounded cache for registry reads on the scoring path.

A warm score would otherwise pay registry round trips (the model, its promotion) for a few
microseconds of numpy. What is cached here may be at most ``seconds`` old: this replica drops
an entry as soon as it changes the thing itself (a promotion, a delete), and another replica's
change is seen once the entry expires. ``seconds=0`` turns caching off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Values by key, each kept ``seconds`` after it was loaded."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._drops = 0  # a load that overlapped a drop may have read the old value

    def get(
        self, key: Hashable, load: Callable[[], V], keep: Callable[[V], bool] = lambda _: True
    ) -> V:
        """The cached value, or ``load()``, kept if ``keep`` says so (an error is never kept:
        a 404 must turn into an answer the moment the thing exists)."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            drops = self._drops
        if entry is not None and now < entry[0]:
            return entry[1]
        value = load()
        if self.seconds > 0 and keep(value):
            with self._lock:
                if drops == self._drops:
                    self._entries[key] = (now + self.seconds, value)
        return value

    def drop(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._drops += 1
