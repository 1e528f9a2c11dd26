"""The Lambda entry point: parse each stream record, decide, write the retrain items.

Ordering and failure semantics (DynamoDB stream + event source mapping with
``ReportBatchItemFailures``):

- Every record of the batch is evaluated in stream order; one bad record never stops the ones
  behind it. Each record that could not be handled (malformed, or its write failed) is returned in
  ``batchItemFailures`` by its ``SequenceNumber``, in stream order.
- The event source mapping resumes from the *lowest* failed sequence number, so records after a
  failure are redelivered even if they succeeded here. Writes are idempotent puts on the source
  key, so redelivery rewrites the same items: no duplicates.
- Per-key order is kept: flagged items are written in stream order (BatchWriteItem chunks never
  hold one key twice), and once a record fails, later records for the same key in the same batch
  are not written and are reported failed too, so an older image never lands after a newer one.
- REMOVE events and records without a ``NewImage`` are ignored (success). A MODIFY that no longer
  qualifies leaves an existing retrain item alone: candidates are only ever added.
- A configuration error (bad ``CONFIDENCE_THRESHOLD``) raises: a function error, which the mapping
  retries/bisects and finally sends to its on-failure destination, rather than flagging wrongly.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flagger.config import FlaggerConfig
from flagger.log import log
from flagger.records import MalformedRecord, parse_record, record_keys, sequence_number
from flagger.retrain import (
    MAX_BATCH_WRITE,
    DynamoDBWriter,
    build_retrain_item,
    flagged_at_now,
    write_retrain_items,
)
from flagger.rules import flag_reasons

_client: DynamoDBWriter | None = None

KeyId = tuple[str, ...]


def get_client() -> DynamoDBWriter:
    """The DynamoDB client, created once per container (cold start) and then reused.

    boto3 honours ``AWS_ENDPOINT_URL`` and the region/credential variables by itself.
    """
    global _client
    if _client is None:
        import boto3
        from botocore.config import Config

        _client = boto3.client(
            "dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 3})
        )
    return _client


def set_client(client: DynamoDBWriter | None) -> None:
    """Inject a client (tests, the local runner); ``None`` resets to lazy creation."""
    global _client
    _client = client


@dataclass
class _Write:
    index: int
    key: KeyId
    keys: dict[str, str]
    sequence_number: str
    item: dict[str, Any]


@dataclass
class _Batch:
    """Bookkeeping for one invocation."""

    request_id: str | None
    failed: dict[int, str | None] = field(default_factory=dict)  # index -> sequence number
    failed_keys: set[KeyId] = field(default_factory=set)
    chunk: list[_Write] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)


class Flagger:
    """The handler's logic with its collaborators injected: config, client and clock."""

    def __init__(
        self,
        config: FlaggerConfig,
        client: DynamoDBWriter | Callable[[], DynamoDBWriter],
        clock: Callable[[], str] = flagged_at_now,
    ) -> None:
        self.config = config
        self._client = client
        self._clock = clock
        self.stats: Counter[str] = Counter()  # cumulative outcomes, for the local runner's metrics
        self._stats_lock = threading.Lock()

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
        # Without a sequence number there is nothing to report by: an empty identifier makes the
        # mapping retry the whole batch, as AWS does.
        failures = [{"itemIdentifier": batch.failed[i] or ""} for i in sorted(batch.failed)]
        batch.outcomes["failed"] = len(failures)
        with self._stats_lock:
            self.stats.update(batch.outcomes)
        log(
            logging.INFO,
            "batch processed",
            request_id=batch.request_id,
            records=len(records),
            **{k: batch.outcomes[k] for k in ("flagged", "passed", "ignored", "failed")},
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
            log(
                logging.ERROR,
                "malformed record",
                error=str(exc),
                keys=keys or exc.keys,
                sequence_number=seq,
                event_id=_event_id(record),
                request_id=batch.request_id,
            )
            batch.failed[index] = seq
            if keys:
                batch.failed_keys.add(key_id)
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
        if len(batch.chunk) >= MAX_BATCH_WRITE or any(w.key == key_id for w in batch.chunk):
            self._flush(batch)
            if key_id in batch.failed_keys:  # the older image of this key just failed
                self._skip(index, keys, seq, batch)
                return
        item = build_retrain_item(parsed, reasons, self.config.threshold, self._clock())
        batch.chunk.append(_Write(index, key_id, parsed.keys, parsed.sequence_number, item))

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
                batch.outcomes["flagged"] += 1
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
    return Flagger(FlaggerConfig.from_env(), get_client).handle(event, context)
