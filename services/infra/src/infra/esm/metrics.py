"""Counters the runner logs periodically and exposes as a snapshot."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class MetricsSnapshot:
    """Totals since start, plus the current lag (AWS's IteratorAge, in seconds)."""

    records_seen: int
    records_succeeded: int
    records_flagged: int | None
    records_failed: int
    invocations: int
    function_errors: int
    partial_failures: int
    retries: int
    bisections: int
    batches: int
    active_shards: int
    lag_seconds: float
    max_lag_seconds: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Metrics:
    """Mutable, lock-protected counters updated by the shard workers."""

    records_seen: int = 0
    records_succeeded: int = 0
    records_failed: int = 0
    invocations: int = 0
    function_errors: int = 0
    partial_failures: int = 0
    retries: int = 0
    bisections: int = 0
    batches: int = 0
    max_lag_seconds: float = 0.0
    shard_lag: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def set_lag(self, shard_id: str, lag: float) -> None:
        with self._lock:
            self.shard_lag[shard_id] = lag
            self.max_lag_seconds = max(self.max_lag_seconds, lag)

    def drop_shard(self, shard_id: str) -> None:
        with self._lock:
            self.shard_lag.pop(shard_id, None)

    def snapshot(self, active_shards: int, flagged: int | None) -> MetricsSnapshot:
        with self._lock:
            return MetricsSnapshot(
                records_seen=self.records_seen,
                records_succeeded=self.records_succeeded,
                records_flagged=flagged,
                records_failed=self.records_failed,
                invocations=self.invocations,
                function_errors=self.function_errors,
                partial_failures=self.partial_failures,
                retries=self.retries,
                bisections=self.bisections,
                batches=self.batches,
                active_shards=active_shards,
                lag_seconds=max(self.shard_lag.values(), default=0.0),
                max_lag_seconds=self.max_lag_seconds,
            )
