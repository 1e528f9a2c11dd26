"""One shard of the stream, read as AWS's poller reads it: GetRecords → the function → checkpoint.

Each poller runs in its own thread. It reads GetRecords back to back while records flow (the next
read runs while the function handles the batch before it, :class:`~infra.esm.readahead.ReadAhead`)
and backs off to a few reads a second once idle; it hands each batch to
:class:`~infra.esm.invoker.BatchInvoker` (batchItemFailures, bisect, bounded retries, on-failure
destination) and then checkpoints durably. An expired iterator is renewed from the checkpoint;
records trimmed before they were read are reported to the destination; a closed shard is marked
done so its children may start.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from iris_common.clock import parse_iso

from infra.aws import error_code
from infra.esm.checkpoint import CheckpointStore
from infra.esm.destination import FailureDestination, failure_message
from infra.esm.events import to_lambda_record
from infra.esm.invoker import BatchInvoker, Handler, StopRequested
from infra.esm.logs import log
from infra.esm.metrics import Metrics
from infra.esm.readahead import ReadAhead
from infra.esm.settings import MAX_RECORDS_PER_GET, EsmSettings
from infra.esm.shards import Shard


def record_time(record: dict[str, Any]) -> float | None:
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
            parsed = parse_iso(created)
            if parsed.timestamp() <= time.time() + 5.0:  # ignore a writer's clock far ahead
                candidates.append(parsed.timestamp())
    return max(candidates, default=None)


@dataclass
class ShardPoller:
    """Polls one shard until it is closed and drained, the runner stops, or it crashes."""

    shard: Shard
    stream_arn: str
    settings: EsmSettings
    streams: Any
    checkpoints: CheckpointStore
    destination: FailureDestination
    metrics: Metrics
    handler: Handler
    stop: threading.Event
    # Called whenever records were delivered (the runner's "quiet" clock).
    on_records: Callable[[], None] = lambda: None
    # StartingPosition LATEST on a never-checkpointed stream: read past what is there without
    # invoking (checkpointing as it goes, so a restart does not replay it), then go on normally.
    skip_existing: bool = False
    thread: threading.Thread | None = field(default=None, init=False)
    idle_polls: int = field(default=0, init=False)
    finished: bool = field(default=False, init=False)
    error: str | None = field(default=None, init=False)

    @property
    def shard_id(self) -> str:
        return self.shard.shard_id

    def start(self) -> None:
        """Poll in a daemon thread of its own."""
        self.thread = threading.Thread(
            target=self.run, name=f"esm-{self.shard_id[-12:]}", daemon=True
        )
        self.thread.start()

    def run(self) -> None:
        """Read, deliver and checkpoint until done; a crash is recorded for the runner."""
        settings = self.settings
        invoker = BatchInvoker(
            handler=self.handler,
            destination=self.destination,
            metrics=self.metrics,
            stream_arn=self.stream_arn,
            shard_id=self.shard_id,
            function_name=settings.function_name,
            max_retries=settings.esm_max_retries,
            bisect_on_error=settings.esm_bisect_on_error,
            retry_backoff=settings.esm_retry_backoff,
            sleep=self.stop.wait,
        )
        limit = min(settings.esm_batch_size, MAX_RECORDS_PER_GET)
        reader = ReadAhead(
            lambda it: self.streams.get_records(ShardIterator=it, Limit=limit),
            name=f"esm-read-{self.shard_id[-12:]}",
        )
        try:
            self._loop(invoker, reader)
        except StopRequested:
            return
        except Exception as exc:  # restarted by the next discovery
            self.error = f"{type(exc).__name__}: {exc}"
            log(
                logging.ERROR,
                "shard worker crashed; it will be restarted",
                shard_id=self.shard_id,
                error=self.error,
            )
        finally:
            reader.close()
            self.finished = True
            self.metrics.drop_shard(self.shard_id)

    def _loop(self, invoker: BatchInvoker, reader: ReadAhead) -> None:
        shard_id = self.shard_id
        iterator: str | None = None
        failures_in_a_row = 0
        while not self.stop.is_set():
            try:
                if iterator is None:
                    iterator = self._iterator()
                response = reader.get(iterator)
            except ClientError as exc:
                code = error_code(exc)
                if code == "ExpiredIteratorException":
                    iterator = None  # a fresh one from the checkpoint
                    continue
                if code == "TrimmedDataAccessException":
                    cp = self.checkpoints.get(self.stream_arn, shard_id)
                    self._report_trimmed(cp.sequence_number if cp else None)
                    iterator = self._trim_horizon_iterator()
                    continue
                if code == "ResourceNotFoundException":
                    log(logging.WARNING, "shard is gone; marking it done", shard_id=shard_id)
                    self.checkpoints.save(self.stream_arn, shard_id, None, done=True)
                    return
                failures_in_a_row += 1
                self._transient(exc, failures_in_a_row)
                iterator = None
                continue
            except BotoCoreError as exc:  # endpoint unreachable, timeouts
                failures_in_a_row += 1
                self._transient(exc, failures_in_a_row)
                iterator = None
                continue
            failures_in_a_row = 0
            records = response.get("Records", [])
            if self.skip_existing:
                if records:
                    last = records[-1]["dynamodb"]["SequenceNumber"]
                    self.checkpoints.save(self.stream_arn, shard_id, last)
                else:
                    self.skip_existing = False
                    # Remember the shard even if it was empty, so a restart reads on from here.
                    self.checkpoints.save(self.stream_arn, shard_id, None)
                    log(logging.INFO, "LATEST: existing records skipped", shard_id=shard_id)
            elif records:
                self.idle_polls = 0
                if response.get("NextShardIterator"):
                    reader.start(response["NextShardIterator"])
                self._deliver(invoker, records)
            elif not reader.stale:  # read before the last batch was handled: read again
                self.idle_polls += 1
                self.metrics.set_lag(shard_id, 0.0)
            iterator = response.get("NextShardIterator")
            if iterator is None:
                log(logging.INFO, "shard closed and drained", shard_id=shard_id)
                self.checkpoints.save(self.stream_arn, shard_id, None, done=True)
                return
            if not records and not reader.stale:
                self.stop.wait(self._poll_delay())

    def _iterator(self) -> str:
        cp = self.checkpoints.get(self.stream_arn, self.shard_id)
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": self.shard_id}
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
            self._report_trimmed(cp.sequence_number if cp else None)
            return self._trim_horizon_iterator()

    def _trim_horizon_iterator(self) -> str:
        return self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=self.shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def _report_trimmed(self, after: str | None) -> None:
        """Records past the 24 h retention are gone: say so durably, then go on from the oldest."""
        log(
            logging.ERROR,
            "checkpoint is behind the stream's trim horizon; records were lost",
            shard_id=self.shard_id,
            after_sequence_number=after,
        )
        message = failure_message(
            record={"dynamodb": {"SequenceNumber": after}},
            shard_id=self.shard_id,
            stream_arn=self.stream_arn,
            function_name=self.settings.function_name,
            condition="RecordAgeExceeded",
            reason="records after this sequence number were trimmed before they were read",
            attempts=0,
            function_error=None,
        )
        self.destination.send(message)

    def _poll_delay(self) -> float:
        """Wait after the ``idle_polls``-th empty read in a row: short right after records
        (more are likely on their way), doubling up to ``esm_poll_interval`` once idle, so an
        idle shard costs a few reads a second and no busy loop."""
        first = self.settings.esm_busy_poll_interval
        return min(self.settings.esm_poll_interval, first * 2 ** max(self.idle_polls - 1, 0))

    def _transient(self, exc: Exception, attempt: int) -> None:
        log(
            logging.WARNING,
            "GetRecords failed; retrying",
            shard_id=self.shard_id,
            error=str(exc),
            attempt=attempt,
        )
        self.stop.wait(min(0.2 * 2**attempt, 5.0))

    def _deliver(self, invoker: BatchInvoker, raw: list[dict[str, Any]]) -> None:
        records = [to_lambda_record(r, self.stream_arn) for r in raw]
        self.on_records()
        self.metrics.add(records_seen=len(records))
        invoker.process(records)  # raises StopRequested when stopping mid-retry
        last = records[-1]["dynamodb"]["SequenceNumber"]
        self.checkpoints.save(self.stream_arn, self.shard_id, last)
        newest = record_time(records[-1])
        if newest is not None:
            self.metrics.set_lag(self.shard_id, max(0.0, time.time() - newest))
