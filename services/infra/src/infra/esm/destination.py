"""The on-failure destination: an append-only JSONL file of records that never succeeded.

Each line carries what AWS puts in an on-failure SQS message for a stream source (request and
response context, ``DDBStreamBatchInfo``) plus the record's keys, the reason, the attempts and the
record itself, so it can be inspected or replayed. Lines are fsynced before the checkpoint moves
past the record: a record is either handled, in this file, or redelivered — never dropped.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from iris_common.clock import iso_from_epoch, utc_now


class FailureDestination:
    """Thread-safe, durable JSONL appender; a file lock keeps a concurrent replay consistent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive across threads and processes (the runner appending, a replay rewriting)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path.with_name(self.path.name + ".lock"), "a") as lock_file:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, default=str, sort_keys=True) + "\n"
        with self.locked(), open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def rewrite(self, messages: list[dict[str, Any]]) -> None:
        """Replace the file's content atomically; call it while holding :meth:`locked`."""
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for message in messages:
                fh.write(json.dumps(message, default=str, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def read_all(self) -> list[dict[str, Any]]:
        """Every message sent so far (for tests and operators)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def failure_message(
    *,
    record: dict[str, Any],
    shard_id: str,
    stream_arn: str,
    function_name: str,
    condition: str,
    reason: str,
    attempts: int,
    function_error: str | None,
) -> dict[str, Any]:
    """The message for one record, shaped like AWS's on-failure record for DynamoDB streams."""
    ddb = record.get("dynamodb", {}) if isinstance(record, dict) else {}
    seq = ddb.get("SequenceNumber")
    arrival = ddb.get("ApproximateCreationDateTime")
    arrival_iso = iso_from_epoch(arrival) if isinstance(arrival, (int, float)) else arrival
    return {
        "version": "1.0",
        "timestamp": utc_now(),
        "requestContext": {
            "functionArn": function_name,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": {"functionError": function_error},
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": seq,
            "endSequenceNumber": seq,
            "approximateArrivalOfFirstRecord": arrival_iso,
            "approximateArrivalOfLastRecord": arrival_iso,
            "batchSize": 1,
            "streamArn": stream_arn,
        },
        "keys": _plain_keys(ddb.get("Keys")),
        "sequence_number": seq,
        "reason": reason,
        "attempts": attempts,
        "record": record,
    }


def _plain_keys(keys: Any) -> dict[str, Any]:
    if not isinstance(keys, dict):
        return {}
    out: dict[str, Any] = {}
    for name, value in keys.items():
        out[name] = next(iter(value.values())) if isinstance(value, dict) and value else value
    return out
