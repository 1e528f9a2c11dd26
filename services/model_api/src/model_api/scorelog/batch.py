"""One BatchWriteItem chunk, sent until DynamoDB has accepted every item or rejected it for good.

Kept apart from the worker so the retry rules can be unit-tested with a fake client:
- ``UnprocessedItems`` are re-sent (with back-off, as AWS asks);
- throttling, server errors, connection errors, a missing table or missing credentials are
  transient: the chunk waits (exponential back-off with full jitter) and is never marked failed;
- a ``ValidationException`` rejects the whole request, so the chunk is split into single items to
  find the bad one(s); only an item rejected on its own is reported as failed, with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

from model_api.scorelog.items import WireItem

log = logging.getLogger(__name__)

# Errors that say "this item can never be written as it is"; everything else is retried.
PERMANENT_CODES = frozenset({"ValidationException", "SerializationException"})


class BatchClient(Protocol):
    """The one method of the (aio)boto3 DynamoDB client the writer needs."""

    async def batch_write_item(self, **kwargs: Any) -> dict[str, Any]: ...


@dataclass
class Backoff:
    """Exponential back-off with full jitter: sleep ~ U(0, min(cap, base * 2**attempt))."""

    base: float = 0.05
    cap: float = 2.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0.0, min(self.cap, self.base * (2 ** min(attempt, 30))))


@dataclass
class Health:
    """Whether the endpoint answered lately, for the run status (``waiting`` vs ``writing``)."""

    last_error: str | None = None
    failing_since: float | None = None

    def ok(self) -> None:
        self.last_error = None
        self.failing_since = None

    def failed(self, reason: str) -> None:
        self.last_error = reason
        if self.failing_since is None:
            self.failing_since = time.monotonic()

    @property
    def unavailable(self) -> bool:
        return self.failing_since is not None


def _key(item: WireItem) -> tuple[str, str]:
    return item["partition_key"]["S"], item["sort_key"]["S"]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', 'ClientError')}: {err.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


async def send_chunk(
    client: BatchClient,
    table: str,
    chunk: Sequence[WireItem],
    backoff: Backoff,
    health: Health,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> dict[int, str]:
    """Write ``chunk`` (≤ 25 items, unique keys); return ``{index: reason}`` of rejected items.

    Returns only when every item is accepted or permanently rejected; cancellation leaves the
    remaining items unwritten (the caller keeps them pending in the outbox).
    """
    failures: dict[int, str] = {}
    todo = list(range(len(chunk)))
    attempt = 0
    while todo:
        request = {table: [{"PutRequest": {"Item": chunk[i]}} for i in todo]}
        try:
            response = await client.batch_write_item(RequestItems=request)
        except asyncio.CancelledError:
            raise
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in PERMANENT_CODES:
                health.ok()  # the endpoint answered; it is the data that is wrong
                if len(todo) == 1:
                    failures[todo[0]] = _describe(exc)
                else:
                    for i in todo:
                        single = await send_chunk(client, table, [chunk[i]], backoff, health, sleep)
                        if single:
                            failures[i] = single[0]
                return failures
            health.failed(_describe(exc))
            await sleep(backoff.delay(attempt))
            attempt += 1
            continue
        except Exception as exc:
            # Never lose a record over an unexpected error: log it, keep it pending, retry.
            health.failed(_describe(exc))
            log.debug("score log write failed, retrying: %s", _describe(exc))
            await sleep(backoff.delay(attempt))
            attempt += 1
            continue
        health.ok()
        unprocessed = response.get("UnprocessedItems", {}).get(table, [])
        if not unprocessed:
            break
        left = {_key(r["PutRequest"]["Item"]) for r in unprocessed}
        progressed = len(left) < len(todo)
        todo = [i for i in todo if _key(chunk[i]) in left]
        attempt = 1 if progressed else attempt + 1
        await sleep(backoff.delay(attempt))
    return failures
