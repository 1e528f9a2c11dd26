"""The Lambda entry point: parse each stream record, decide, write the retrain items.

Ordering and failure semantics (DynamoDB stream + event source mapping with
``ReportBatchItemFailures``):

- Every record of the batch is evaluated in stream order; one bad record never stops the ones
  behind it. A record that can never be read (fields missing or mistyped, a probability that is
  not a finite number in [0, 1]) is not retried: retrying cannot fix it, and a run of them held
  the stream for an hour. It is itself a problem record, copied at once with the reason
  ``unreadable`` and whatever it holds; with no usable key it goes to the on-failure destination
  at once (the SQS queue in ``FAILURE_QUEUE_URL``, the mapping's on-failure queue).
- Retries are for what can succeed later: a record whose write failed (throttling, an error of
  the call), or whose on-failure send failed, is returned in ``batchItemFailures`` by its
  ``SequenceNumber``, in stream order. Without a configured destination a keyless unreadable
  record is reported too (logged why), so the mapping's own destination still gets it (the local
  runner's on-failure file, after its retries).
- The event source mapping resumes from the *lowest* failed sequence number, so records after a
  failure are redelivered even if they succeeded here. Writes are keyed on the source key and
  never replace an existing candidate (``retrain.py``): redelivery rewrites the same items, no
  duplicates, and a reviewed candidate keeps its review.
- Per-key order is kept: flagged items are written in stream order (a chunk written at once never
  holds one key twice), and once a record fails, later records for the same key in the same batch
  are not written and are reported failed too, so an older image never lands after a newer one.
- REMOVE events and records without a ``NewImage`` are ignored (success). A MODIFY that no longer
  qualifies leaves an existing retrain item alone: candidates are only ever added.
- A configuration error (bad ``CONFIDENCE_THRESHOLD``) raises: a function error, which the mapping
  retries/bisects and finally sends to its on-failure destination, rather than flagging wrongly.
- Each invocation logs one ``batch processed`` line with its outcome counts (:data:`OUTCOMES`):
  the function's metrics, read from its log as a metric filter would (the local runner does).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flagger.config import FlaggerConfig
from flagger.failures import FailureSink, SqsFailureSink, log_unreadable, unreadable_message
from flagger.log import log
from flagger.records import (
    MalformedRecord,
    parse_record,
    record_keys,
    retrain_key,
    sequence_number,
)
from flagger.retrain import (
    WRITE_CHUNK,
    DynamoDBWriter,
    build_retrain_item,
    build_unreadable_item,
    flagged_at_now,
    write_retrain_items,
)
from flagger.rules import flag_reasons

_clients: dict[str, Any] = {}

KeyId = tuple[str, ...]
OUTCOMES = ("flagged", "unreadable", "to_destination", "passed", "ignored", "failed")


def get_client(service: str = "dynamodb") -> Any:
    """The ``dynamodb`` (or ``sqs``) client, created once per container (cold start), reused.

    boto3 honours ``AWS_ENDPOINT_URL`` and the region/credential variables by itself.
    """
    if _clients.get(service) is None:
        import boto3
        from botocore.config import Config

        _clients[service] = boto3.client(
            service, config=Config(retries={"mode": "standard", "max_attempts": 3})
        )
    return _clients[service]


def set_client(client: Any, service: str = "dynamodb") -> None:
    """Inject a client (tests); ``None`` resets to lazy creation."""
    _clients[service] = client


@dataclass
class _Write:
    index: int
    key: KeyId
    keys: dict[str, str]
    sequence_number: str | None
    item: dict[str, Any]
    outcome: str = "flagged"


@dataclass
class _Batch:
    """Bookkeeping for one invocation."""

    request_id: str | None
    failed: dict[int, str | None] = field(default_factory=dict)  # index -> sequence number
    failed_keys: set[KeyId] = field(default_factory=set)
    chunk: list[_Write] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    unreadable: list[dict[str, Any]] = field(default_factory=list)  # for the summary line


class Flagger:
    """The handler's logic with its collaborators injected: config, client and clock."""

    def __init__(
        self,
        config: FlaggerConfig,
        client: DynamoDBWriter | Callable[[], DynamoDBWriter],
        clock: Callable[[], str] = flagged_at_now,
        failure_sink: FailureSink | None = None,
    ) -> None:
        self.config = config
        self._client = client
        self._clock = clock
        self.failure_sink = failure_sink

    @property
    def client(self) -> DynamoDBWriter:
        return self._client() if callable(self._client) else self._client

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """Process a stream event; return the records that failed as ``batchItemFailures``."""
        records = event.get("Records") if isinstance(event, dict) else None
        if not isinstance(records, list):
            raise MalformedRecord("event has no Records list")
        batch = _Batch(request_id=getattr(context, "aws_request_id", None))
        for index, record in enumerate(records):
            self._evaluate(index, record, batch)
        self._flush(batch)
        log_unreadable(batch.unreadable, batch.outcomes, batch.request_id)
        # Without a sequence number there is nothing to report by: an empty identifier makes the
        # mapping retry the whole batch, as AWS does.
        failures = [{"itemIdentifier": batch.failed[i] or ""} for i in sorted(batch.failed)]
        batch.outcomes["failed"] = len(failures)
        log(
            logging.INFO,
            "batch processed",
            request_id=batch.request_id,
            records=len(records),
            **{k: batch.outcomes[k] for k in OUTCOMES},
        )
        return {"batchItemFailures": failures}

    def _evaluate(self, index: int, record: Any, batch: _Batch) -> None:
        keys = record_keys(record)
        key_id: KeyId = tuple(str(keys.get(name, "")) for name in ("partition_key", "sort_key"))
        seq = sequence_number(record)
        if keys and key_id in batch.failed_keys:
            self._skip(index, keys, seq, batch)
            return
        try:
            parsed = parse_record(record)
        except MalformedRecord as exc:
            self._unreadable(index, record, str(exc), keys or exc.keys, seq, batch)
            return
        if parsed is None:
            batch.outcomes["ignored"] += 1
            return
        reasons = flag_reasons(
            parsed.predicted, parsed.actual, parsed.probability, self.config.threshold
        )
        if not reasons:
            batch.outcomes["passed"] += 1
            return
        item = build_retrain_item(parsed, reasons, self.config.threshold, self._clock())
        self._queue(_Write(index, key_id, parsed.keys, parsed.sequence_number, item), batch)

    def _queue(self, write: _Write, batch: _Batch) -> None:
        if len(batch.chunk) >= WRITE_CHUNK or any(w.key == write.key for w in batch.chunk):
            self._flush(batch)
            if write.key in batch.failed_keys:  # the older image of this key just failed
                self._skip(write.index, write.keys, write.sequence_number, batch)
                return
        batch.chunk.append(write)

    def _unreadable(
        self,
        index: int,
        record: Any,
        error: str,
        keys: dict[str, Any],
        seq: str | None,
        batch: _Batch,
    ) -> None:
        """Copy a record that can never be read as an ``unreadable`` candidate, or, with no key
        to copy it under, send it to the on-failure destination: never a retry."""
        key = retrain_key(record)
        batch.unreadable.append(
            {
                "error": error,
                "keys": keys,
                "sequence_number": seq,
                "event_id": _event_id(record),
                "action": "copied as unreadable" if key else "sent to the on-failure destination",
            }
        )
        if key is not None:
            item = build_unreadable_item(record, key, error, self.config.threshold, self._clock())
            key_id = (key["partition_key"], key["sort_key"])
            self._queue(_Write(index, key_id, key, seq, item, "unreadable"), batch)
            return
        message = unreadable_message(
            record, error=error, keys=keys, sequence_number=seq, request_id=batch.request_id
        )
        if self.failure_sink is None:
            log(
                logging.ERROR,
                "no on-failure destination configured (FAILURE_QUEUE_URL); reporting the "
                "record as failed so the event source mapping's destination gets it",
                sequence_number=seq,
                request_id=batch.request_id,
            )
            batch.failed[index] = seq
            return
        try:
            self.failure_sink.send(message)
        except Exception as exc:  # the send can succeed later: let the mapping retry it
            log(
                logging.ERROR,
                "on-failure send failed; the record will be retried",
                error=f"{type(exc).__name__}: {exc}",
                sequence_number=seq,
                request_id=batch.request_id,
            )
            batch.failed[index] = seq
            return
        batch.outcomes["to_destination"] += 1

    def _flush(self, batch: _Batch) -> None:
        chunk, batch.chunk = batch.chunk, []
        if not chunk:
            return
        errors = write_retrain_items(
            self.client, self.config.retrain_table, [w.item for w in chunk]
        )
        for position, write in enumerate(chunk):
            error = errors.get(position)
            if error is None:
                batch.outcomes[write.outcome] += 1
                continue
            log(
                logging.ERROR,
                "retrain write failed",
                error=error,
                keys=write.keys,
                sequence_number=write.sequence_number,
                request_id=batch.request_id,
            )
            batch.failed[write.index] = write.sequence_number
            batch.failed_keys.add(write.key)

    @staticmethod
    def _skip(index: int, keys: dict[str, Any], seq: str | None, batch: _Batch) -> None:
        log(
            logging.WARNING,
            "record held back: an earlier record for its key failed",
            keys=keys,
            sequence_number=seq,
            request_id=batch.request_id,
        )
        batch.failed[index] = seq


def _event_id(record: Any) -> Any:
    return record.get("eventID") if isinstance(record, dict) else None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point (``flagger.handler.lambda_handler``); settings from env."""
    config = FlaggerConfig.from_env()
    sink = (
        SqsFailureSink(lambda: get_client("sqs"), config.failure_queue_url)
        if config.failure_queue_url
        else None
    )
    return Flagger(config, get_client, failure_sink=sink).handle(event, context)
