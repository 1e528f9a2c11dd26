"""The asyncio worker that drains the outbox into DynamoDB.

A feeder reads pending items in submission order and hands chunks of 25 to ``concurrency``
senders (so that many BatchWriteItem requests are in flight); a settler records accepted and
rejected items in the outbox in coalesced transactions and wakes whoever waits for progress.
Items are deleted from the outbox only after DynamoDB accepted them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from model_api.scorelog.batch import Backoff, BatchClient, Health, send_chunk
from model_api.scorelog.outbox import Outbox, Pending

log = logging.getLogger(__name__)

# Runs a blocking outbox call on the outbox's own thread.
OutboxCall = Callable[..., Awaitable[Any]]

CHUNK = 25  # BatchWriteItem's limit
STOP_SETTLE_ATTEMPTS = 3  # at stop, ids still unrecorded after these are simply re-sent later


class Writer:
    """Feeds the outbox to DynamoDB until stopped; restartable on the same outbox."""

    def __init__(
        self,
        outbox: Outbox,
        call: OutboxCall,
        client: BatchClient,
        table: str,
        *,
        concurrency: int = 8,
        backoff: Backoff | None = None,
        settle_interval: float = 0.1,
    ) -> None:
        self._outbox = outbox
        self._call = call
        self._client = client
        self._table = table
        self._concurrency = max(1, concurrency)
        self._backoff = backoff or Backoff()
        self._settle_interval = settle_interval
        self.health = Health()
        self._wake = asyncio.Event()
        self._dirty = asyncio.Event()
        self.progress = asyncio.Condition()
        self._queue: asyncio.Queue[list[Pending]] = asyncio.Queue(maxsize=self._concurrency * 2)
        self._written: list[int] = []
        self._failed: list[tuple[int, str]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._settler: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._feed(), name="scorelog-feed")]
        self._tasks += [
            asyncio.create_task(self._send(), name=f"scorelog-send-{n}")
            for n in range(self._concurrency)
        ]
        self._settler = asyncio.create_task(self._settle_loop(), name="scorelog-settle")

    def wake(self) -> None:
        """New items were committed to the outbox."""
        self._wake.set()

    async def stop(self) -> None:
        """Cancel in-flight sends (their items stay pending) and record what was accepted."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._settler is not None:
            self._settler.cancel()
            await asyncio.gather(self._settler, return_exceptions=True)
            self._settler = None
        for attempt in range(STOP_SETTLE_ATTEMPTS):
            try:
                await self._settle()
                return
            except Exception:  # what stays unrecorded is pending and re-sent (idempotent)
                log.exception("score log could not record written items at stop")
                await asyncio.sleep(self._backoff.delay(attempt))

    async def _feed(self) -> None:
        cursor = 0
        batch = self._concurrency * CHUNK * 2
        while True:
            self._wake.clear()
            try:
                pending: list[Pending] = await self._call(self._outbox.fetch_pending, cursor, batch)
            except Exception:  # e.g. disk trouble: keep the worker alive and try again
                log.exception("score log could not read its outbox")
                await asyncio.sleep(1.0)
                continue
            if not pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                continue
            for start in range(0, len(pending), CHUNK):
                chunk = pending[start : start + CHUNK]
                await self._queue.put(chunk)
                cursor = chunk[-1].id

    async def _send(self) -> None:
        while True:
            chunk = await self._queue.get()
            items = [json.loads(p.item_json) for p in chunk]
            failures = await send_chunk(
                self._client, self._table, items, self._backoff, self.health
            )
            for index, p in enumerate(chunk):
                if index in failures:
                    log.warning("score log item %s rejected: %s", p.id, failures[index])
                    self._failed.append((p.id, failures[index]))
                else:
                    self._written.append(p.id)
            self._dirty.set()

    async def _settle_loop(self) -> None:
        failures = 0
        while True:
            await self._dirty.wait()
            # Coalesce many chunks per transaction: fewer commits, less CPU taken from the engine.
            await asyncio.sleep(self._settle_interval)
            self._dirty.clear()
            try:
                await self._settle()
                failures = 0
            except Exception:  # e.g. disk full: the ids are kept and recorded on the next try
                failures += 1
                delay = self._backoff.delay(failures) + self._settle_interval
                log.exception(
                    "score log could not record written items (attempt %d); retrying in %.2fs",
                    failures,
                    delay,
                )
                self._dirty.set()
                await asyncio.sleep(delay)

    async def _settle(self) -> None:
        """Record accepted and rejected items in the outbox.

        The ids stay in memory until the outbox transaction committed: the feeder has moved past
        them, so dropping them on an error would leave them counted pending until a restart.
        """
        written, self._written = self._written, []
        if written:
            try:
                await self._call(self._outbox.mark_written, written)
            except BaseException:
                self._written = written + self._written
                raise
        failed, self._failed = self._failed, []
        if failed:
            try:
                await self._call(self._outbox.mark_failed, failed)
            except BaseException:
                self._failed = failed + self._failed
                raise
        async with self.progress:
            self.progress.notify_all()
