"""The one training worker and its bound.

Training is slow and CPU-bound, so every job (a model's training, a retraining flow's job) runs
on one background thread (the machine has two cores; a second concurrent fit would only slow
both). A bounded number may wait: beyond it a request is refused with 429 before anything is
written.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from model_api.core.errors import too_busy

QUEUE_RETRY_AFTER = 30  # seconds: a default-sized job on the bundled data set takes about this


class TrainingQueue:
    """Submit work to the training worker; ``slot`` checks the bound and holds it meanwhile."""

    def __init__(self, max_queued: int | None = None) -> None:
        self.max_queued = max_queued
        self._lock = threading.RLock()
        self._waiting: dict[Hashable, Future[Any]] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="train")

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Refuse (429) when the queue is full, else hold the lock while the caller records
        and submits its job, so no other request takes the last slot in between."""
        with self._lock:
            self._check()
            yield

    def check(self) -> None:
        """429 ``training_queue_full`` when as many jobs wait as the bound allows."""
        with self._lock:
            self._check()

    def submit(self, fn: Callable[..., Any], *args: Any, key: Hashable = None) -> Future[Any]:
        """Queue ``fn(*args)``; it counts against the bound until it starts (``key``: to
        ``forget`` it, e.g. when its model is deleted)."""
        with self._lock:
            future = self._executor.submit(fn, *args)
            tag = future if key is None else key
            self._waiting[tag] = future
        future.add_done_callback(lambda _: self.forget(tag, future))
        return future

    def forget(self, key: Hashable, future: Future[Any] | None = None) -> None:
        """Stop counting ``key``'s job (only if it is still ``future``, when given)."""
        with self._lock:
            if future is None or self._waiting.get(key) is future:
                self._waiting.pop(key, None)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _check(self) -> None:
        if self.max_queued is None:
            return
        waiting = sum(1 for f in self._waiting.values() if not (f.running() or f.done()))
        if waiting >= self.max_queued:
            raise too_busy(
                "training_queue_full",
                f"{waiting} training jobs are waiting already (the limit); try again later",
                QUEUE_RETRY_AFTER,
                {"queued": waiting, "limit": self.max_queued},
            )
