"""The local event source mapping's lifecycle: DynamoDB stream → the function, as Lambda runs it.

One discovery loop finds the table's stream and its shards (new ones too, children only after
their parent is drained) and starts one :class:`~infra.esm.shard_poller.ShardPoller` per readable
shard; a poller that crashed is restarted by the next discovery. ``run_forever`` runs until
:meth:`EsmRunner.stop`, ``run_until_idle`` until the stream is drained; one runner per data dir.
Works against any DynamoDB Streams endpoint: DynamoDB Local, LocalStack or AWS.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flagger.handler import Flagger

from infra.aws import error_code, make_clients
from infra.esm.checkpoint import CheckpointStore
from infra.esm.destination import FailureDestination
from infra.esm.handlers import built_in_flagger, configured_handler
from infra.esm.invoker import Handler
from infra.esm.logs import log
from infra.esm.metrics import Metrics, MetricsSnapshot
from infra.esm.settings import EsmSettings
from infra.esm.shard_poller import ShardPoller
from infra.esm.shards import list_shards, ready_shards

# The poller's reads fail fast and retry a little; the loop itself retries what is transient.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=20)


class RunnerLocked(RuntimeError):
    """Another runner already works on this data directory."""


class EsmRunner:
    """Polls one table's stream and invokes ``handler`` with Lambda's semantics.

    ``handler`` defaults to what the settings choose (:mod:`infra.esm.handlers`).
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
        self._flagger: Flagger | None = None
        handler = handler or configured_handler(self.settings)
        if handler is None:
            self._flagger = built_in_flagger(self.settings, self.dynamodb, self.destination)
            handler = self._flagger.handle
        self.handler: Handler = handler
        self.metrics = Metrics()
        self._stop = threading.Event()
        self._workers: dict[tuple[str, str], ShardPoller] = {}
        self._stream_arn: str | None = None
        self._last_metrics_log = time.monotonic()
        self._logged: set[str] = set()
        self._target_checked = False
        self._latest_shards: dict[str, set[str]] = {}
        self._last_records_at = time.monotonic()

    # ----- public API -----------------------------------------------------------------------
    def stop(self) -> None:
        """Ask every loop to finish; an in-flight batch is not checkpointed (redelivered)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One runner per data dir: two would fight over the checkpoint file."""
        self.settings.esm_dir.mkdir(parents=True, exist_ok=True)
        with open(self.settings.esm_dir / "runner.lock", "a") as lock_file:
            try:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunnerLocked(
                    f"another event source mapping runner uses {self.settings.esm_dir}"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

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
        """The built-in flagger's cumulative outcomes (None for a custom handler)."""
        return dict(self._flagger.stats) if self._flagger else None

    def snapshot(self) -> MetricsSnapshot:
        flagged = self._flagger.stats.get("flagged", 0) if self._flagger else None
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
            arn = self._current_stream_arn()
            if arn is None or not self._target_ready():
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

    def _current_stream_arn(self) -> str | None:
        try:
            table = self.dynamodb.describe_table(TableName=self.settings.score_table)["Table"]
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                self._log_once("score table does not exist yet; waiting")
                return None
            raise
        arn = table.get("LatestStreamArn")
        enabled = table.get("StreamSpecification", {}).get("StreamEnabled", False)
        if not arn or not enabled:
            self._log_once("score table has no enabled stream; waiting")
            return None
        if arn != self._stream_arn:
            log(logging.INFO, "stream found", stream_arn=arn, table=self.settings.score_table)
            self._stream_arn = arn
        return arn

    def _target_ready(self) -> bool:
        """With the built-in flagger, wait for the retrain table: invoking before it exists would
        fail every flagged record and, after the retries, send them all to the failure file."""
        if self._flagger is None or self._target_checked:
            return True
        try:
            self.dynamodb.describe_table(TableName=self.settings.retrain_table)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                self._log_once("retrain table does not exist yet; waiting")
                return False
            raise
        self._target_checked = True
        return True

    def _log_once(self, message: str) -> None:
        if message not in self._logged:
            self._logged.add(message)
            log(
                logging.WARNING,
                message,
                score_table=self.settings.score_table,
                retrain_table=self.settings.retrain_table,
            )

    # ----- bookkeeping ------------------------------------------------------------------------
    def _saw_records(self) -> None:
        self._last_records_at = time.monotonic()

    def _is_idle(self, idle_polls: int) -> bool:
        if self._stream_arn is None:
            return False
        workers = [w for w in self._workers.values() if w.stream_arn == self._stream_arn]
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
            "function_handler": s.esm_function_handler or "built-in flagger.handler.Flagger",
            "checkpoint": str(s.checkpoint_path),
            "on_failure": str(s.failures_path),
        }
