"""The retrain table item and its idempotent, batched write.

The item has the source item's key, so a redelivered stream record rewrites the same item: the
stream is at-least-once, the table ends up exactly-once. Flagged records of a batch are written
with BatchWriteItem (25 per call) because per-record PutItem made the function, not the stream,
the bottleneck when many records are flagged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from flagger.log import log
from flagger.records import KEY_NAMES, Image, ScoreRecord, split_attributes
from flagger.rules import UNREADABLE

MAX_BATCH_WRITE = 25  # DynamoDB's BatchWriteItem limit


class DynamoDBWriter(Protocol):
    """The calls the flagger makes: a boto3 DynamoDB client (or a test double) provides them."""

    def put_item(self, **kwargs: Any) -> Any: ...

    def batch_write_item(self, **kwargs: Any) -> Any: ...


def flagged_at_now() -> str:
    """ISO-8601 UTC with microseconds, e.g. ``2026-11-25T03:15:09.123456Z``."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def format_threshold(threshold: float) -> str:
    """The threshold as the decimal string the contract stores (``0.9``, not ``0.9000``)."""
    return repr(float(threshold))


def build_retrain_item(
    record: ScoreRecord, reasons: list[str], threshold: float, flagged_at: str
) -> Image:
    """The source item's typed attributes, as they are, plus why and when it was flagged."""
    item: Image = dict(record.image)
    item["reasons"] = {"L": [{"S": reason} for reason in reasons]}
    item["flagged_at"] = {"S": flagged_at}
    item["threshold"] = {"S": format_threshold(threshold)}
    return item


def build_unreadable_item(
    record: dict[str, Any],
    key: dict[str, str],
    error: str,
    threshold: float,
    flagged_at: str,
) -> Image:
    """A record that can never be read, as a candidate: whatever it holds, and why.

    Well-formed attributes are copied as they are; the others (which DynamoDB would refuse) are
    kept as JSON text in ``unreadable_attributes`` so nothing is lost and the write succeeds.
    """
    good, bad = split_attributes(record["dynamodb"].get("NewImage"))
    for name in KEY_NAMES:
        if name in good and good[name] != {"S": key[name]}:
            bad[name] = good[name]
        good[name] = {"S": key[name]}
    item: Image = dict(good)
    item["reasons"] = {"L": [{"S": UNREADABLE}]}
    item["flagged_at"] = {"S": flagged_at}
    item["threshold"] = {"S": format_threshold(threshold)}
    item["unreadable_error"] = {"S": error}
    if bad:
        text = json.dumps(bad, default=str, sort_keys=True)
        item["unreadable_attributes"] = {"S": text}
    return item


def item_key(item: Image) -> tuple[str, ...]:
    return tuple(str(item[name].get("S")) for name in KEY_NAMES)


def write_retrain_items(
    client: DynamoDBWriter,
    table: str,
    items: list[Image],
    *,
    unprocessed_retries: int = 3,
    backoff: float = 0.05,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[int, str]:
    """Write up to 25 items with distinct keys; return ``{position: error}`` for those not written.

    Unconditional puts on the source key, so every write is idempotent. Items DynamoDB leaves
    unprocessed (throttling) are retried briefly, then reported. When the call itself fails (one
    invalid item fails the whole request) the items are written one by one, so only the bad one
    is reported and the others are not sent to the on-failure destination with it.
    """
    if not items:
        return {}
    if len(items) > MAX_BATCH_WRITE:
        raise ValueError(f"at most {MAX_BATCH_WRITE} items per BatchWriteItem")
    request = {table: [{"PutRequest": {"Item": item}} for item in items]}
    try:
        for attempt in range(unprocessed_retries + 1):
            response = client.batch_write_item(RequestItems=request)
            unprocessed = response.get("UnprocessedItems", {}).get(table, [])
            if not unprocessed:
                return {}
            request = {table: unprocessed}
            if attempt < unprocessed_retries:
                sleep(backoff * 2**attempt)
    except Exception as exc:  # any error of the whole call: isolate the item(s) that cause it
        log(
            logging.WARNING,
            "BatchWriteItem failed; writing the items one by one with PutItem",
            error=f"{type(exc).__name__}: {exc}",
            error_code=_error_code(exc),
            items=len(items),
        )
        return _write_one_by_one(client, table, items)
    left = {item_key(r["PutRequest"]["Item"]) for r in unprocessed}
    return {
        i: "UnprocessedItems: still throttled after retries"
        for i, item in enumerate(items)
        if item_key(item) in left
    }


def _error_code(exc: Exception) -> str | None:
    """botocore's error code (``AccessDeniedException``, ``ValidationException``…), if any."""
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _write_one_by_one(client: DynamoDBWriter, table: str, items: list[Image]) -> dict[int, str]:
    errors: dict[int, str] = {}
    for i, item in enumerate(items):
        try:
            client.put_item(TableName=table, Item=item)
        except Exception as exc:  # this record fails, the others go on
            errors[i] = f"{type(exc).__name__}: {exc}"
    return errors
