"""One GetRecords call in flight while the function handles the batch before it.

Measured in ``bench/flagger_unreadable.py``: during a burst every batch waited for its own
GetRecords after the previous batch was checkpointed, so the read time added up over the burst.
AWS's poller reads a shard continuously too. Reading ahead changes no semantics: batches are
still handed to the function one at a time, in order, and checkpointed after it returns; a
read-ahead result is used only for the iterator it was started with (a worker that falls back
to its checkpoint discards it), and its errors surface where the worker would have called.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

GetRecords = Callable[[str], dict[str, Any]]


class ReadAhead:
    """Reads of one shard: :meth:`start` the next one early, :meth:`get` it (or read now)."""

    def __init__(self, get_records: GetRecords, name: str) -> None:
        self._get_records = get_records
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._pending: tuple[str, Future[dict[str, Any]]] | None = None
        # Whether the last response came from a read started before the batch was handled:
        # an empty one then says nothing about what was written since.
        self.stale = False

    def start(self, iterator: str) -> None:
        """Begin reading at ``iterator`` in the background."""
        self._pending = (iterator, self._pool.submit(self._get_records, iterator))

    def get(self, iterator: str) -> dict[str, Any]:
        """The records at ``iterator``: the read-ahead's if it was for this iterator."""
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] == iterator:
            self.stale = True
            return pending[1].result()  # raises what GetRecords raised
        self.stale = False
        return self._get_records(iterator)

    def close(self) -> None:
        """Drop a pending read (its iterator is simply never used) and free the thread."""
        self._pending = None
        self._pool.shutdown(wait=False, cancel_futures=True)
