"""The local event source mapping: DynamoDB stream → the flagger handler, as AWS Lambda runs it.

One discovery loop finds the table's stream and its shards (new ones too, children only after
their parent is drained) and starts one worker thread per readable shard. Each worker reads
GetRecords back to back while records flow (the next read runs while the function handles the
batch before it) and backs off to a few reads a second once idle; it hands each batch to
:class:`BatchInvoker` (batchItemFailures, bisect, bounded retries, on-failure destination) and
then checkpoints durably. Works against any
DynamoDB Streams endpoint: DynamoDB Local, LocalStack or AWS.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flagger.config import FlaggerConfig
from flagger.handler import Flagger

from infra.aws import error_code, make_clients
from infra.esm.checkpoint import CheckpointStore
from infra.esm.destination import FailureDestination, failure_message
from infra.esm.events import to_lambda_record
from infra.esm.invoker import BatchInvoker, Handler, StopRequested
from infra.esm.logs import log
from infra.esm.metrics import Metrics, MetricsSnapshot
from infra.esm.readahead import ReadAhead
from infra.esm.settings import MAX_RECORDS_PER_GET, EsmSettings
from infra.esm.shards import Shard, list_shards, ready_shards

# The poller's reads fail fast and retry a little; the loop itself retries what is transient.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=20)


def load_handler(spec: str) -> Handler:
    """Import a Lambda-style handler string such as ``flagger.handler.lambda_handler``."""
    module_name, _, attribute = spec.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(handler):
        raise ValueError(f"{spec} is not a callable handler")
    return handler


def _record_time(record: dict[str, Any]) -> float | None:
    """A lower bound of when the record was written, for the lag metric (AWS's IteratorAge).

    The stream's ApproximateCreationDateTime is rounded down (to the second on AWS, to the minute
    on DynamoDB Local); the item's ``created_at`` (score log: when its run started, or when the
    row was written) is never later than the write either. The later of the two is the tighter
    bound, so lag is reported to the millisecond whenever ``created_at`` is precise.
    """
    ddb = record.get("dynamodb", {})
    approx = ddb.get("ApproximateCreationDateTime")
    candidates = [float(approx)] if isinstance(approx, (int, float)) else []
    created = ddb.get("NewImage", {}).get("created_at", {}).get("S")
    if isinstance(created, str):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(created.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            if parsed.timestamp() <= time.time() + 5.0:  # ignore a writer's clock far ahead
                candidates.append(parsed.timestamp())
    return max(candidates, default=None)


class RunnerLocked(RuntimeError):
    """Another runner already works on this data directory."""


@dataclass
class _Worker:
    shard: Shard
    stream_arn: str
    thread: threading.Thread | None = None
    idle_polls: int = 0
    # StartingPosition LATEST on a never-checkpointed stream: read past what is there without
    # invoking (checkpointing as it goes, so a restart does not replay it), then go on normally.
    skip_existing: bool = False
    finished: bool = False
    error: str | None = None


class EsmRunner:
    """Polls one table's stream and invokes ``handler`` with Lambda's semantics.

    ``handler`` defaults to the real flagger (:class:`flagger.handler.Flagger`, the same code the
    deployed function runs) configured from ``settings``.
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
        if handler is None and self.settings.esm_packaged:
            from infra.esm.packaged import PackagedHandler

            handler = PackagedHandler(self.settings)
        if handler is None and self.settings.esm_function_handler:
            handler = load_handler(self.settings.esm_function_handler)
        if handler is None:
            # The destination is the function's too: an unreadable record with no key goes
            # there at once, as the deployed function sends it to the on-failure queue.
            self._flagger = Flagger(
                FlaggerConfig(
                    retrain_table=self.settings.retrain_table,
                    threshold=self.settings.flag_threshold,
                ),
                self.dynamodb,
                failure_sink=self.destination,
            )
            handler = self._flagger.handle
        self.handler: Handler = handler
        self.metrics = Metrics()
        self._stop = threading.Event()
        self._workers: dict[tuple[str, str], _Worker] = {}
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
            worker = _Worker(shard=shard, stream_arn=arn, skip_existing=skip)
            worker.thread = threading.Thread(
                target=self._poll_shard,
                args=(worker,),
                name=f"esm-{shard.shard_id[-12:]}",
                daemon=True,
            )
            self._workers[key] = worker
            log(
                logging.INFO,
                "shard worker started",
                shard_id=shard.shard_id,
                parent_shard_id=shard.parent_id,
                stream_arn=arn,
            )
            worker.thread.start()
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

    # ----- one shard --------------------------------------------------------------------------
    def _iterator(self, worker: _Worker) -> str:
        cp = self.checkpoints.get(worker.stream_arn, worker.shard.shard_id)
        kwargs: dict[str, Any] = {"StreamArn": worker.stream_arn, "ShardId": worker.shard.shard_id}
        if cp is not None and cp.sequence_number:
            kwargs |= {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "SequenceNumber": cp.sequence_number,
            }
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        try:
            return self.streams.get_shard_iterator(**kwargs)["ShardIterator"]
        except ClientError as exc:
            if error_code(exc) != "TrimmedDataAccessException":
                raise
            self._report_trimmed(worker, cp.sequence_number if cp else None)
            return self._trim_horizon_iterator(worker)

    def _trim_horizon_iterator(self, worker: _Worker) -> str:
        return self.streams.get_shard_iterator(
            StreamArn=worker.stream_arn,
            ShardId=worker.shard.shard_id,
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]

    def _report_trimmed(self, worker: _Worker, after: str | None) -> None:
        """Records past the 24 h retention are gone: say so durably, then go on from the oldest."""
        log(
            logging.ERROR,
            "checkpoint is behind the stream's trim horizon; records were lost",
            shard_id=worker.shard.shard_id,
            after_sequence_number=after,
        )
        message = failure_message(
            record={"dynamodb": {"SequenceNumber": after}},
            shard_id=worker.shard.shard_id,
            stream_arn=worker.stream_arn,
            function_name=self.settings.function_name,
            condition="RecordAgeExceeded",
            reason="records after this sequence number were trimmed before they were read",
            attempts=0,
            function_error=None,
        )
        self.destination.send(message)

    def _poll_shard(self, worker: _Worker) -> None:
        shard_id = worker.shard.shard_id
        settings = self.settings
        invoker = BatchInvoker(
            handler=self.handler,
            destination=self.destination,
            metrics=self.metrics,
            stream_arn=worker.stream_arn,
            shard_id=shard_id,
            function_name=settings.function_name,
            max_retries=settings.esm_max_retries,
            bisect_on_error=settings.esm_bisect_on_error,
            retry_backoff=settings.esm_retry_backoff,
            sleep=self._stop.wait,
        )
        limit = min(settings.esm_batch_size, MAX_RECORDS_PER_GET)
        reader = ReadAhead(
            lambda it: self.streams.get_records(ShardIterator=it, Limit=limit),
            name=f"esm-read-{shard_id[-12:]}",
        )
        iterator: str | None = None
        failures_in_a_row = 0
        try:
            while not self._stop.is_set():
                try:
                    if iterator is None:
                        iterator = self._iterator(worker)
                    response = reader.get(iterator)
                except ClientError as exc:
                    code = error_code(exc)
                    if code == "ExpiredIteratorException":
                        iterator = None  # a fresh one from the checkpoint
                        continue
                    if code == "TrimmedDataAccessException":
                        cp = self.checkpoints.get(worker.stream_arn, shard_id)
                        self._report_trimmed(worker, cp.sequence_number if cp else None)
                        iterator = self._trim_horizon_iterator(worker)
                        continue
                    if code == "ResourceNotFoundException":
                        log(logging.WARNING, "shard is gone; marking it done", shard_id=shard_id)
                        self.checkpoints.save(worker.stream_arn, shard_id, None, done=True)
                        return
                    failures_in_a_row += 1
                    self._transient(shard_id, exc, failures_in_a_row)
                    iterator = None
                    continue
                except BotoCoreError as exc:  # endpoint unreachable, timeouts
                    failures_in_a_row += 1
                    self._transient(shard_id, exc, failures_in_a_row)
                    iterator = None
                    continue
                failures_in_a_row = 0
                records = response.get("Records", [])
                if worker.skip_existing:
                    if records:
                        last = records[-1]["dynamodb"]["SequenceNumber"]
                        self.checkpoints.save(worker.stream_arn, shard_id, last)
                    else:
                        worker.skip_existing = False
                        # Remember the shard even if it was empty, so a restart reads on from here.
                        self.checkpoints.save(worker.stream_arn, shard_id, None)
                        log(logging.INFO, "LATEST: existing records skipped", shard_id=shard_id)
                elif records:
                    worker.idle_polls = 0
                    if response.get("NextShardIterator"):
                        reader.start(response["NextShardIterator"])
                    self._deliver(worker, invoker, records)
                elif not reader.stale:  # read before the last batch was handled: read again
                    worker.idle_polls += 1
                    self.metrics.set_lag(shard_id, 0.0)
                iterator = response.get("NextShardIterator")
                if iterator is None:
                    log(logging.INFO, "shard closed and drained", shard_id=shard_id)
                    self.checkpoints.save(worker.stream_arn, shard_id, None, done=True)
                    return
                if not records and not reader.stale:
                    self._stop.wait(self._poll_delay(worker.idle_polls))
        except StopRequested:
            return
        except Exception as exc:  # restarted by the next discovery
            worker.error = f"{type(exc).__name__}: {exc}"
            log(
                logging.ERROR,
                "shard worker crashed; it will be restarted",
                shard_id=shard_id,
                error=worker.error,
            )
        finally:
            reader.close()
            worker.finished = True
            self.metrics.drop_shard(shard_id)

    def _poll_delay(self, idle_polls: int) -> float:
        """Wait after the ``idle_polls``-th empty read in a row: short right after records
        (more are likely on their way), doubling up to ``esm_poll_interval`` once idle, so an
        idle shard costs a few reads a second and no busy loop."""
        first = self.settings.esm_busy_poll_interval
        return min(self.settings.esm_poll_interval, first * 2 ** max(idle_polls - 1, 0))

    def _transient(self, shard_id: str, exc: Exception, attempt: int) -> None:
        log(
            logging.WARNING,
            "GetRecords failed; retrying",
            shard_id=shard_id,
            error=str(exc),
            attempt=attempt,
        )
        self._stop.wait(min(0.2 * 2**attempt, 5.0))

    def _deliver(self, worker: _Worker, invoker: BatchInvoker, raw: list[dict[str, Any]]) -> None:
        records = [to_lambda_record(r, worker.stream_arn) for r in raw]
        self._last_records_at = time.monotonic()
        self.metrics.add(records_seen=len(records))
        invoker.process(records)  # raises StopRequested when stopping mid-retry
        last = records[-1]["dynamodb"]["SequenceNumber"]
        self.checkpoints.save(worker.stream_arn, worker.shard.shard_id, last)
        newest = _record_time(records[-1])
        if newest is not None:
            self.metrics.set_lag(worker.shard.shard_id, max(0.0, time.time() - newest))

    # ----- bookkeeping ------------------------------------------------------------------------
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
