"""``ScoreLog``: the one object model_api holds to log batch-test predictions to DynamoDB.

``submit`` makes a run's records durable (one SQLite transaction, then staged in the registry for
every replica: ``scorelog.shared``) and returns; the background writer sends them with
BatchWriteItem and keeps them until DynamoDB accepted them, across endpoint outages and process
restarts, and any replica finishes a run whose writer has stopped. ``status`` reports per-run
counts for the TestRun's ``logging`` field. One long-lived aioboto3 client serves the writer and
the read API. Whether a run is taken at all is ``scorelog.admission``'s rule; its refusals are
re-exported here, where callers of ``submit`` catch them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import aioboto3
from aiobotocore.config import AioConfig

from model_api.scorelog import admission
from model_api.scorelog.admission import RunTooLarge, ScoreLogBusy, ScoreLogFull  # noqa: F401
from model_api.scorelog.batch import Backoff
from model_api.scorelog.items import RunInfo, ScoredRow, build_items
from model_api.scorelog.outbox import Outbox
from model_api.scorelog.queries import RecordReader
from model_api.scorelog.shared import SharedOutbox, Steward
from model_api.scorelog.worker import Writer

T = TypeVar("T")
log = logging.getLogger(__name__)

# Run states reported by ``status``.
UNKNOWN = "unknown"  # the run id was never submitted here
QUEUED = "queued"  # records pending, writer not running
WRITING = "writing"  # records pending, endpoint answering
WAITING = "waiting"  # records pending, endpoint failing: they wait (durably) and retry
COMPLETE = "complete"  # every record written
FAILED = "failed"  # nothing pending, but some records were rejected permanently


class ScoreLogClosed(RuntimeError):
    """``submit`` after ``stop``."""


class ScoreLog:
    """Durable, asynchronous, batched writer of score-table items (see the module docstring).

    Settings the app passes (names in docs/contract.md): ``data_dir`` = ``IRIS_DATA_DIR`` (the
    outbox file is ``<data_dir>/scorelog.sqlite3``), ``table_name`` = ``IRIS_SCORE_TABLE``,
    ``retrain_table`` = ``IRIS_RETRAIN_TABLE``, ``endpoint_url`` = ``AWS_ENDPOINT_URL``,
    ``region`` = ``AWS_DEFAULT_REGION``, ``concurrency`` = ``IRIS_SCORELOG_CONCURRENCY``,
    ``max_pending`` = ``IRIS_SCORELOG_MAX_PENDING``.
    Credentials come from the standard AWS chain.
    """

    def __init__(
        self,
        data_dir: Path | str,
        table_name: str,
        *,
        retrain_table: str | None = None,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        concurrency: int = 8,
        max_pending: int | None = None,
        session: aioboto3.Session | None = None,
        backoff: Backoff | None = None,
        shared: SharedOutbox | None = None,
        heartbeat_s: float = 10.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.max_pending = max_pending
        self.table_name = table_name
        self.retrain_table = retrain_table
        self.endpoint_url = endpoint_url
        self.region = region
        self.concurrency = concurrency
        self._session = session or aioboto3.Session()
        self._backoff = backoff
        self._outbox = Outbox(Path(data_dir))
        # The shared stage (registry): any replica can finish this one's runs; None = local only.
        self._steward = Steward(shared, self._outbox) if shared is not None else None
        self._heartbeat_s = heartbeat_s
        self._tending: asyncio.Task[None] | None = None
        # One thread owns the outbox's write connection: SQLite work never blocks the event loop.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scorelog-outbox")
        self._stack: contextlib.AsyncExitStack | None = None
        self._client: Any = None
        self._writer: Writer | None = None
        self._closed = False

    @property
    def client(self) -> Any:
        """The shared aioboto3 DynamoDB client (None before ``start``)."""
        return self._client

    def reader(self) -> RecordReader:
        """Paged reads of the score and retrain tables on the shared client (after ``start``)."""
        if self._client is None:
            raise RuntimeError("the score log is not started")
        return RecordReader(self._client, self.table_name, self.retrain_table)

    @property
    def running(self) -> bool:
        return self._writer is not None

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    async def start(self) -> None:
        """Open the client and start sending; records left from an earlier process go first."""
        if self._closed:
            raise ScoreLogClosed("this ScoreLog was stopped; create a new one")
        if self._writer is not None:
            return
        stack = contextlib.AsyncExitStack()
        config = AioConfig(
            connect_timeout=3,
            read_timeout=30,
            retries={"total_max_attempts": 1},  # the writer retries itself, with jitter
            max_pool_connections=self.concurrency + 4,  # + room for the read API
        )
        self._client = await stack.enter_async_context(
            self._session.client(
                "dynamodb", endpoint_url=self.endpoint_url, region_name=self.region, config=config
            )
        )
        self._stack = stack
        self._writer = Writer(
            self._outbox,
            self._call,
            self._client,
            self.table_name,
            concurrency=self.concurrency,
            backoff=self._backoff,
        )
        self._writer.start()
        if self._steward is not None:
            await self._call(self._steward.resume)
            self._tending = asyncio.create_task(self._tend_loop(), name="scorelog-steward")

    async def _tend_loop(self) -> None:
        """Every heartbeat: renew this replica's run leases, finish, share late, adopt."""
        assert self._steward is not None
        while True:
            await asyncio.sleep(self._heartbeat_s)
            try:
                adopted = await self._call(self._steward.tend)
            except Exception:  # keep tending; the registry may answer next time
                log.exception("score log could not tend its shared runs")
                continue
            if adopted and self._writer is not None:
                self._writer.wake()

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - drain bound
        """Drain for up to ``timeout`` seconds, then stop; what is left stays in the outbox and
        is sent by the next ``ScoreLog`` on the same data directory."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            if timeout > 0:
                await self.wait_idle(timeout=timeout)
            await self._writer.stop()
            self._writer = None
        if self._tending is not None:
            self._tending.cancel()
            await asyncio.gather(self._tending, return_exceptions=True)
            self._tending = None
        if self._steward is not None:
            await self._call(self._steward.close)
        if self._stack is not None:
            await self._stack.aclose()
            self._stack, self._client = None, None
        await self._call(self._outbox.close)
        self._executor.shutdown(wait=True)

    async def submit(self, run: RunInfo, rows: Sequence[ScoredRow]) -> dict[str, Any]:
        """Store every record of ``run`` durably, then return its status (DynamoDB not awaited).

        Raises ``items.RecordError`` for rows that cannot be valid items,
        ``outbox.RunAlreadySubmitted`` for a run id already logged, ``ScoreLogBusy`` when the
        pending records would exceed ``max_pending``, ``RunTooLarge`` for a run that never fits
        and ``ScoreLogFull`` when the disk is full; nothing is stored then.
        """
        if self._closed:
            raise ScoreLogClosed("the score log is stopped")
        await self._call(self._store, run, rows)
        if self._writer is not None:
            self._writer.wake()
        return self.status(run.run_id)

    def _store(self, run: RunInfo, rows: Sequence[ScoredRow]) -> None:
        items = build_items(run, rows)
        encoded = [(position, json.dumps(item, separators=(",", ":"))) for position, item in items]
        run_id = str(run.run_id)
        admission.admit(self._outbox, run_id, encoded, self.max_pending)  # or raises: none stored
        if self._steward is not None:  # staged for every replica before the response
            self._steward.accepted(run_id, encoded)

    def on_run_finished(self, record: Callable[[str, dict[str, Any]], None]) -> None:
        """``record(run_id, status)`` once this replica has written a shared run to the end."""
        if self._steward is not None:
            self._steward.on_finished = lambda run_id: record(run_id, self.status(run_id))

    def status(self, run_id: str) -> dict[str, Any]:
        """``{total, written, pending, failed, state}`` of a run (state: see the constants)."""
        counts = self._outbox.counts(run_id) if not self._closed else None
        if counts is None:
            return {"total": 0, "written": 0, "pending": 0, "failed": 0, "state": UNKNOWN}
        if counts.pending == 0:
            state = FAILED if counts.failed else COMPLETE
        elif self._writer is None:
            state = QUEUED
        elif self._writer.health.unavailable:
            state = WAITING
        else:
            state = WRITING
        return {
            "total": counts.total,
            "written": counts.written,
            "pending": counts.pending,
            "failed": counts.failed,
            "state": state,
        }

    def totals(self) -> dict[str, float]:
        """Outbox totals over every run (see ``Outbox.totals``); zeros once stopped."""
        if self._closed:
            return dict.fromkeys(("submitted", "written", "failed", "pending"), 0) | {
                "oldest_pending_age_s": 0.0
            }
        return self._outbox.totals()

    def failures(self, run_id: str, limit: int = 20) -> list[dict[str, object]]:
        """Rejected records of a run with DynamoDB's reason (for diagnostics)."""
        return self._outbox.failures(run_id, limit)

    @property
    def last_error(self) -> str | None:
        """The endpoint's last transient error while it is failing, else None."""
        return self._writer.health.last_error if self._writer else None

    def _idle(self, run_id: str | None) -> bool:
        if run_id is None:
            return self._outbox.pending_total() == 0
        counts = self._outbox.counts(run_id)
        return counts is None or counts.pending == 0

    async def wait_idle(
        self,
        run_id: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> bool:
        """Wait until nothing (of ``run_id``, or at all) is pending; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self._idle(run_id):
            remaining = 0.5 if deadline is None else min(0.5, deadline - loop.time())
            if remaining <= 0:
                return False
            writer = self._writer
            if writer is None:
                await asyncio.sleep(min(0.1, remaining))
                continue
            async with writer.progress:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(writer.progress.wait(), remaining)
        return True
