"""The local event source mapping's lifecycle: DynamoDB stream → the function, as Lambda runs it.

One discovery loop finds the table's stream and its shards (new ones too, children only after
their parent is drained) and starts one :class:`~infra.esm.shard_poller.ShardPoller` per readable
shard; a poller that crashed is restarted by the next discovery. ``run_forever`` runs until
:meth:`EsmRunner.stop`, ``run_until_idle`` until the stream is drained; one runner per data dir.
Works against any DynamoDB Streams endpoint: DynamoDB Local, LocalStack or AWS.

The function is loaded by its handler string (:mod:`infra.esm.handlers`), as Lambda loads it; the
runner knows of it only its response (``batchItemFailures``) and its log lines (the outcome
counts, :mod:`infra.esm.function_logs`), and sends what keeps failing to its on-failure
destination itself, as AWS's mapping does.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from infra.aws import make_clients
from infra.esm.checkpoint import CheckpointStore, data_dir_lock
from infra.esm.destination import FailureDestination
from infra.esm.discovery import StreamTarget
from infra.esm.function_logs import FunctionLog
from infra.esm.handlers import configured_handler
from infra.esm.invoker import Handler
from infra.esm.logs import log
from infra.esm.metrics import Metrics, MetricsSnapshot
from infra.esm.settings import EsmSettings
from infra.esm.shard_poller import ShardPoller
from infra.esm.shards import list_shards, ready_shards

# The poller's reads fail fast and retry a little; the loop itself retries what is transient.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=20)


class EsmRunner:
    """Polls one table's stream and invokes ``handler`` with Lambda's semantics.

    ``handler`` defaults to the function the settings name, by its handler string
    (:mod:`infra.esm.handlers`); a callable passed instead is invoked as it is (tests).
    """

    def __init__(
        self,
        settings: EsmSettings | None = None,
        handler: Handler | None = None,
        *,
        dynamodb: Any = None,
        streams: Any = None,
    ) -> None:
        self.settings = settings or EsmSettings()
        clients = make_clients(self.settings, config=_CLIENT_CONFIG)
        self.dynamodb = dynamodb or clients("dynamodb")
        self.streams = streams or clients("dynamodbstreams")
        self.checkpoints = CheckpointStore(self.settings.checkpoint_path)
        self.destination = FailureDestination(self.settings.failures_path)
        self.function_log: FunctionLog | None = None
        self._configured = handler is None  # the settings' function, not a callable passed in
        if handler is None:
            handler, self.function_log = configured_handler(self.settings)
        self.handler: Handler = handler
        self.target = StreamTarget(self.settings, self.dynamodb, wait_for_retrain=self._configured)
        self.metrics = Metrics()
        self._stop = threading.Event()
        self._workers: dict[tuple[str, str], ShardPoller] = {}
        self._last_metrics_log = time.monotonic()
        self._latest_shards: dict[str, set[str]] = {}
        self._last_records_at = time.monotonic()

    # ----- public API -----------------------------------------------------------------------
    def stop(self) -> None:
        """Ask every loop to finish; an in-flight batch is not checkpointed (redelivered)."""
        self._stop.set()

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One runner per data dir; the function's log is read while the runner runs."""
        with data_dir_lock(self.settings.esm_dir):
            if self.function_log is not None:
                self.function_log.attach()
            try:
                yield
            finally:
                if self.function_log is not None:
                    self.function_log.detach()

    def run_forever(self) -> MetricsSnapshot:
        """Discover and poll until :meth:`stop`; then join the workers and return the metrics."""
        with self._exclusive():
            return self._run_forever()

    def _run_forever(self) -> MetricsSnapshot:
        log(logging.INFO, "event source mapping starting", **self._describe())
        try:
            while not self._stop.is_set():
                self.discover_once()
                self._maybe_log_metrics()
                self._stop.wait(self.settings.esm_discovery_interval)
        finally:
            self._stop.set()
            self._join()
        snapshot = self.snapshot()
        log(logging.INFO, "event source mapping stopped", **snapshot.as_dict())
        return snapshot

    def run_until_idle(self, idle_polls: int = 3, timeout: float = 120.0) -> MetricsSnapshot:
        """Run until every readable shard returned no records ``idle_polls`` times in a row
        (the stream is drained), then stop. Raises TimeoutError if it never gets there."""
        with self._exclusive():
            return self._run_until_idle(idle_polls, timeout)

    def _run_until_idle(self, idle_polls: int, timeout: float) -> MetricsSnapshot:
        deadline = time.monotonic() + timeout
        self._last_records_at = time.monotonic()
        try:
            while True:
                # Idle is judged before discovery, so a child shard that becomes readable in
                # between (its parent just finished) is started instead of being missed.
                quiet = time.monotonic() - self._last_records_at >= self.settings.esm_idle_quiet_s
                idle = self._is_idle(idle_polls) and quiet
                if self.discover_once() == 0 and idle:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"stream not drained within {timeout} s: {self.snapshot()}")
                self._stop.wait(self.settings.esm_poll_interval)
        finally:
            self._stop.set()
            self._join()
        return self.snapshot()

    def function_stats(self) -> dict[str, int] | None:
        """The function's cumulative outcomes from its log lines (None when they cannot be read:
        a handler passed as a callable, or the packaged function in its own process)."""
        return self.function_log.counts() if self.function_log else None

    def snapshot(self) -> MetricsSnapshot:
        stats = self.function_stats()
        flagged = stats.get("flagged", 0) if stats is not None else None
        active = sum(1 for w in self._workers.values() if not w.finished)
        return self.metrics.snapshot(active_shards=active, flagged=flagged)

    # ----- discovery --------------------------------------------------------------------------
    def discover_once(self) -> int:
        """Find the stream and its readable shards; start a worker for each new one.

        Returns how many workers were started.
        """
        started = 0
        # Workers that crashed are dropped here and restarted below.
        for key, worker in list(self._workers.items()):
            if worker.finished and worker.error is not None:
                del self._workers[key]
        try:
            arn = self.target.current_stream_arn()
            if arn is None or not self.target.target_ready():
                return 0
            shards = list_shards(self.streams, arn)
        except (ClientError, BotoCoreError) as exc:
            log(logging.WARNING, "stream discovery failed; will retry", error=str(exc))
            return 0
        self.checkpoints.forget_missing(arn, {s.shard_id for s in shards})

        def done(shard_id: str) -> bool:
            return self.checkpoints.is_done(arn, shard_id)

        # LATEST applies to the shards there when the mapping first sees the stream; shards
        # created later are read from their start, as on AWS.
        initial = self._latest_shards.setdefault(
            arn,
            {s.shard_id for s in shards}
            if self.settings.esm_starting_position == "LATEST"
            and not self.checkpoints.has_stream(arn)
            else set(),
        )
        for shard in ready_shards(shards, done):
            key = (arn, shard.shard_id)
            if key in self._workers:
                continue
            fresh = self.checkpoints.get(arn, shard.shard_id) is None
            skip = shard.shard_id in initial and fresh
            worker = ShardPoller(
                shard=shard,
                stream_arn=arn,
                settings=self.settings,
                streams=self.streams,
                checkpoints=self.checkpoints,
                destination=self.destination,
                metrics=self.metrics,
                handler=self.handler,
                stop=self._stop,
                on_records=self._saw_records,
                skip_existing=skip,
            )
            self._workers[key] = worker
            log(
                logging.INFO,
                "shard worker started",
                shard_id=shard.shard_id,
                parent_shard_id=shard.parent_id,
                stream_arn=arn,
            )
            worker.start()
            started += 1
        return started

    # ----- bookkeeping ------------------------------------------------------------------------
    def _saw_records(self) -> None:
        self._last_records_at = time.monotonic()

    def _is_idle(self, idle_polls: int) -> bool:
        arn = self.target.stream_arn
        if arn is None:
            return False
        workers = [w for w in self._workers.values() if w.stream_arn == arn]
        if not workers:
            return False
        return all(w.finished or w.idle_polls >= idle_polls for w in workers)

    def _join(self) -> None:
        for worker in list(self._workers.values()):
            if worker.thread is not None:
                worker.thread.join(timeout=30)

    def _maybe_log_metrics(self) -> None:
        now = time.monotonic()
        if now - self._last_metrics_log >= self.settings.esm_metrics_interval:
            self._last_metrics_log = now
            log(logging.INFO, "metrics", **self.snapshot().as_dict())

    def _describe(self) -> dict[str, Any]:
        s = self.settings
        return {
            "score_table": s.score_table,
            "retrain_table": s.retrain_table,
            "endpoint": s.aws_endpoint_url or "aws",
            "batch_size": s.esm_batch_size,
            "max_retries": s.esm_max_retries,
            "bisect_on_error": s.esm_bisect_on_error,
            "poll_interval": s.esm_poll_interval,
            "busy_poll_interval": s.esm_busy_poll_interval,
            "starting_position": s.esm_starting_position,
            "function_handler": s.lambda_handler if self._configured else repr(self.handler),
            "packaged": s.esm_packaged,
            "checkpoint": str(s.checkpoint_path),
            "on_failure": str(s.failures_path),
        }
