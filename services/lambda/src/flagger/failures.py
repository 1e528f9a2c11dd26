"""Unreadable records: where one with no usable key goes, and the batch's one log line on them.

Such a record cannot be copied to the retrain table (it has no key to copy it under) and can
never become readable, so retrying it would only hold the stream. The function sends it straight
to the destination the event source mapping uses for what never succeeds, the SQS queue in
``FAILURE_QUEUE_URL``; without one it reports the record failed, and the mapping's own
destination gets it after its retries (the local runner's on-failure file).

Unreadable records come in runs (one broken writer): one log line per batch names the first few
in full and counts the rest; each one is findable in the retrain table or the destination.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

from iris_common.clock import utc_now

from flagger.log import log

UNREADABLE_CONDITION = "Unreadable"
UNREADABLE_SAMPLE = 5  # records named in full in the batch's line
UNREADABLE_ERRORS = 10  # distinct error messages counted in that line


class FailureSink(Protocol):
    """Accepts one on-failure message (:class:`SqsFailureSink`; tests keep a list)."""

    def send(self, message: dict[str, Any]) -> None: ...


class SqsFailureSink:
    """Sends messages to the on-failure SQS queue; the client is created only when needed."""

    def __init__(self, client: Callable[[], Any], queue_url: str) -> None:
        self._client = client
        self.queue_url = queue_url

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, default=str, sort_keys=True)
        self._client().send_message(QueueUrl=self.queue_url, MessageBody=body)


def unreadable_message(
    record: Any,
    *,
    error: str,
    keys: dict[str, Any],
    sequence_number: str | None,
    request_id: str | None,
) -> dict[str, Any]:
    """The message for one unreadable record: why, where from, and the record itself.

    Same top-level fields as the runner's on-failure lines (``reason``, ``keys``,
    ``sequence_number``, ``attempts``, ``record``), so one reader and ``replay`` handle both.
    """
    return {
        "version": "1.0",
        "timestamp": utc_now(),
        "requestContext": {
            "requestId": request_id,
            "condition": UNREADABLE_CONDITION,
            "approximateInvokeCount": 1,
        },
        "source": "retrain-flagger",
        "keys": keys,
        "sequence_number": sequence_number,
        "reason": f"unreadable: {error}",
        "attempts": 1,
        "record": record,
    }


def log_unreadable(
    entries: list[dict[str, Any]], outcomes: Counter[str], request_id: str | None
) -> None:
    """One ERROR line for the batch's unreadable records: how many, what happened to them, the
    first few in full, the range of sequence numbers and the most common errors by message."""
    if not entries:
        return
    errors = dict(Counter(e["error"] for e in entries).most_common(UNREADABLE_ERRORS))
    log(
        logging.ERROR,
        "unreadable records",
        request_id=request_id,
        count=len(entries),
        copied=outcomes["unreadable"],
        to_destination=outcomes["to_destination"],
        first_sequence_number=entries[0]["sequence_number"],
        last_sequence_number=entries[-1]["sequence_number"],
        errors=errors,
        other_errors=len(entries) - sum(errors.values()),  # records with a less common message
        first=entries[:UNREADABLE_SAMPLE],
    )
