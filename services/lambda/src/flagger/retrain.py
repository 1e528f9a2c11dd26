"""The retrain table item and its idempotent write, which never touches the review.

The item has the source item's key, so a redelivered stream record rewrites the same item: the
stream is at-least-once, the table ends up exactly-once. model_api stores the review on the same
item (``review``, ``review_history``, by UpdateItem), so the flagger never replaces an item that
exists: a full put (the BatchWriteItem this used) wiped the review whenever a batch was
redelivered or the score record was modified.

What a write means (a MODIFY of the score record included): the candidate mirrors the newest
image of its score record: the copied attributes and ``reasons``/``threshold`` are rewritten,
contract attributes the new image no longer has are removed (a record that became unreadable
keeps no stale ``Probability``; one that became readable loses ``unreadable_error``), and
``flagged_at`` keeps the time the record was first flagged (``if_not_exists``), so a redelivery
leaves the item exactly as it was. The review stays: it is a decision about the row, which
model_api owns; a MODIFY that no longer qualifies writes nothing (handler).

How, efficiently: new candidates are the common case, so a chunk (up to 100 records of distinct
keys) is first written as ONE TransactWriteItems of puts conditioned on the item not existing.
If any item exists (a redelivery, a MODIFY) or the call fails, nothing of it was written, and
each item is written with UpdateItem of the attributes above only, from a small thread pool; a
failure there is that record's alone. No window exists in which a review could be overwritten:
the put's condition and the update are each atomic on the item.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from iris_common.clock import utc_now

from flagger.log import log
from flagger.records import KEY_NAMES, Image, ScoreRecord, split_attributes
from flagger.rules import UNREADABLE

WRITE_CHUNK = 100  # records of distinct keys written at once: TransactWriteItems' limit
WRITE_THREADS = 8  # concurrent UpdateItem calls on the fallback path (bench/flagger_writes.py)
# model_api's attributes on the candidate: never written by the flagger, whatever the image holds
REVIEW_ATTRIBUTES = frozenset({"review", "review_history"})
# The contract's attributes the flagger writes (docs/contract.md): removed when an image lacks one
OWNED_ATTRIBUTES = (
    "Features",
    "Class",
    "Actual",
    "Probability",
    "model_id",
    "dataset_id",
    "probabilities",
    "created_at",
    "reasons",
    "flagged_at",
    "threshold",
    "unreadable_error",
    "unreadable_attributes",
)
KEPT_IF_PRESENT = frozenset({"flagged_at"})  # the first flagging time survives rewrites

_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


class DynamoDBWriter(Protocol):
    """The calls the flagger makes: a boto3 DynamoDB client (or a test double) provides them."""

    def transact_write_items(self, **kwargs: Any) -> Any: ...

    def update_item(self, **kwargs: Any) -> Any: ...


def flagged_at_now() -> str:
    """ISO-8601 UTC with microseconds, e.g. ``2026-11-25T03:15:09.123456Z``."""
    return utc_now("microseconds")


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


def update_request(table: str, item: Image) -> dict[str, Any]:
    """The UpdateItem call that writes ``item``'s flagger-owned attributes and nothing else."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets: list[str] = []
    written = sorted(n for n in item if n not in KEY_NAMES and n not in REVIEW_ATTRIBUTES)
    for i, name in enumerate(written):
        names[f"#a{i}"], values[f":v{i}"] = name, item[name]
        value = f"if_not_exists(#a{i}, :v{i})" if name in KEPT_IF_PRESENT else f":v{i}"
        sets.append(f"#a{i} = {value}")
    removed = [n for n in OWNED_ATTRIBUTES if n not in item]
    for j, name in enumerate(removed):
        names[f"#r{j}"] = name
    expression = "SET " + ", ".join(sets)
    if removed:
        expression += " REMOVE " + ", ".join(f"#r{j}" for j in range(len(removed)))
    return {
        "TableName": table,
        "Key": {name: item[name] for name in KEY_NAMES},
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _thread_pool() -> ThreadPoolExecutor:
    """One pool per process (a Lambda container, the local runner), created on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="flagger-write")
        return _pool


def write_retrain_items(client: DynamoDBWriter, table: str, items: list[Image]) -> dict[int, str]:
    """Write up to ``WRITE_CHUNK`` items with distinct keys; ``{position: error}`` for failures."""
    if len(items) > WRITE_CHUNK:
        raise ValueError(f"at most {WRITE_CHUNK} items per chunk")
    if len({tuple(str(i[n].get("S")) for n in KEY_NAMES) for i in items}) != len(items):
        raise ValueError("a chunk holds distinct keys only (per-key order)")
    if len(items) > 1 and _put_all_new(client, table, items):
        return {}
    requests = [update_request(table, item) for item in items]
    if len(requests) == 1:
        outcomes = [_update_one(client, requests[0])]
    else:
        outcomes = list(_thread_pool().map(lambda r: _update_one(client, r), requests))
    return {i: error for i, error in enumerate(outcomes) if error is not None}


def _put_all_new(client: DynamoDBWriter, table: str, items: list[Image]) -> bool:
    """One transaction putting every item, if none exists yet; ``False`` when nothing was
    written (an item exists, or the call failed: the caller updates item by item)."""
    condition = "attribute_not_exists(partition_key)"
    puts = [
        {
            "Put": {
                "TableName": table,
                "Item": {k: v for k, v in item.items() if k not in REVIEW_ATTRIBUTES},
                "ConditionExpression": condition,
            }
        }
        for item in items
    ]
    try:
        client.transact_write_items(TransactItems=puts)
    except Exception as exc:  # nothing was written; every item gets its own update instead
        reasons = (getattr(exc, "response", None) or {}).get("CancellationReasons") or []
        codes = {r.get("Code") for r in reasons if isinstance(r, dict)} - {"None", None}
        if codes != {"ConditionalCheckFailed"}:  # not just "some exist": say why
            log(
                logging.WARNING,
                "TransactWriteItems failed; writing the items one by one with UpdateItem",
                error=f"{type(exc).__name__}: {exc}",
                error_code=_error_code(exc),
                items=len(items),
            )
        return False
    return True


def _update_one(client: DynamoDBWriter, request: dict[str, Any]) -> str | None:
    try:
        client.update_item(**request)
    except Exception as exc:  # this record fails (the handler logs and reports it), not others
        return f"{type(exc).__name__}: {exc}"
    return None


def _error_code(exc: Exception) -> str | None:
    """botocore's error code (``AccessDeniedException``, ``ValidationException``…), if any."""
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None
