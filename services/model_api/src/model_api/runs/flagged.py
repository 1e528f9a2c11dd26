"""How many of a run's records the flagger copied to the retrain table (``flagged``).

Counted here with a ``Select=COUNT`` query so the dashboard never pages through candidates to
count them. The flagger copies records seconds after they reach the score table, so a count is
only final once the run's records are all written and the count has stayed the same for
``settle_seconds``; from then on it is cached and the table is not asked again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from model_api.scorelog.queries import RecordReader, TableUnavailable

# Logging states after which no record of the run is written any more.
SETTLED_STATES = frozenset({"complete", "failed"})
CONCURRENT_COUNTS = 8


class FlaggedCounter:
    """Flagged counts per run: queried while they can change, cached once they cannot."""

    def __init__(self, settle_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.settle_seconds = settle_seconds
        self._clock = clock
        self._final: dict[str, int] = {}
        self._seen: dict[str, tuple[int, float]] = {}  # count, since when (while settled)

    def cached(self, run_id: str) -> int | None:
        return self._final.get(run_id)

    async def count(self, reader: RecordReader | None, run: dict[str, Any]) -> int | None:
        """The run's flagged count, or None when the retrain table cannot be read."""
        run_id = str(run["run_id"])
        if run_id in self._final:
            return self._final[run_id]
        if reader is None:
            return None
        try:
            n = await reader.count_retrain(run_id)
        except TableUnavailable:
            return None
        if (run.get("logging") or {}).get("state") in SETTLED_STATES:
            now = self._clock()
            previous = self._seen.get(run_id)
            if previous is None or previous[0] != n:
                self._seen[run_id] = (n, now)
            elif now - previous[1] >= self.settle_seconds:
                self._final[run_id] = n
                del self._seen[run_id]
        return n

    async def annotate(self, reader: RecordReader | None, runs: Iterable[dict[str, Any]]) -> None:
        """Set ``flagged`` and ``flagged_share`` (flagged / rows) on each run, in place."""
        gate = asyncio.Semaphore(CONCURRENT_COUNTS)

        async def one(run: dict[str, Any]) -> None:
            async with gate:
                n = await self.count(reader, run)
            rows = int(run.get("rows") or 0)
            run["flagged"] = n
            run["flagged_share"] = n / rows if n is not None and rows else None

        await asyncio.gather(*(one(r) for r in runs))
