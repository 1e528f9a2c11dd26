"""Where an unreadable record with no usable key goes: the on-failure destination, at once.

Such a record cannot be copied to the retrain table (it has no key to copy it under) and can
never become readable, so retrying it would only hold the stream. The function sends it straight
to the destination the event source mapping uses for what never succeeds: on AWS the SQS queue
(``FAILURE_QUEUE_URL``), in the local runner its JSONL file (the runner injects it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from iris_common.clock import utc_now

UNREADABLE_CONDITION = "Unreadable"


class FailureSink(Protocol):
    """Accepts one on-failure message (the local runner's ``FailureDestination`` is one)."""

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
