"""One batch through the function, with the event source mapping's failure semantics.

- Function error (the handler raises): with bisect on, split the batch in two and process each
  half (splitting does not use up retries, as on AWS); a single record is retried.
- ``batchItemFailures``: records before the lowest failed sequence number are done; the batch is
  retried from that record (AWS "bisects at the returned sequence number"). An identifier that is
  empty or not in the batch, or a malformed response, fails the whole batch, as on AWS (handled
  as a function error, so bisect applies).
- Retries are bounded (``max_retries``). When they run out the *first* pending record — the one
  the function keeps failing — goes to the on-failure destination and the rest go on with a fresh
  budget. So a poison record costs a bounded number of invocations and never blocks the shard;
  only records that really failed reach the destination; nothing is dropped silently.
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.esm.destination import FailureDestination, failure_message
from infra.esm.metrics import Metrics

Handler = Callable[[dict[str, Any], Any], Any]


class InvalidResponse(ValueError):
    """The function's response cannot be read as a batch item failure report."""


class StopRequested(Exception):
    """The runner is stopping: abandon the batch (it is redelivered after restart)."""


@dataclass
class LocalContext:
    """The parts of Lambda's context object a handler typically reads."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 128
    timeout_ms: int = 60_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


@dataclass
class BatchInvoker:
    """Delivers one shard's batches to the handler; the caller checkpoints after it returns."""

    handler: Handler
    destination: FailureDestination
    metrics: Metrics
    stream_arn: str
    shard_id: str
    function_name: str  # the configured one (IRIS_FUNCTION_NAME), as in the deployed mapping
    max_retries: int = 3
    bisect_on_error: bool = True
    retry_backoff: float = 0.2
    sleep: Callable[[float], bool] = lambda _s: False  # returns True when stop was requested

    def process(self, records: list[dict[str, Any]]) -> None:
        """Handle every record of ``records``: success, or the on-failure destination."""
        self.metrics.add(batches=1)
        self._process(records)

    def _invoke(self, records: list[dict[str, Any]]) -> Any:
        self.metrics.add(invocations=1)
        context = LocalContext(self.function_name, str(uuid.uuid4()))
        return self.handler({"Records": records}, context)

    def _process(self, records: list[dict[str, Any]]) -> None:
        pending = records
        attempts = 0
        while pending:
            try:
                result = self._invoke(pending)
                lowest = self._lowest_failed(pending, result)
            except Exception as exc:  # a function error, whatever it is
                self.metrics.add(function_errors=1)
                error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                if self.bisect_on_error and len(pending) > 1:
                    self.metrics.add(bisections=1)
                    middle = len(pending) // 2
                    self._process(pending[:middle])
                    self._process(pending[middle:])
                    return
                attempts += 1
                if attempts > self.max_retries:
                    self._give_up(pending, attempts, "function error", error)
                    return
                self._backoff(attempts)
                continue
            if lowest is None:
                self.metrics.add(records_succeeded=len(pending))
                return
            self.metrics.add(partial_failures=1, records_succeeded=lowest)
            pending = pending[lowest:]
            attempts += 1
            if attempts > self.max_retries:
                self._give_up(pending[:1], attempts, "reported in batchItemFailures", None)
                pending = pending[1:]
                attempts = 0
                continue
            self._backoff(attempts)

    @staticmethod
    def _lowest_failed(records: list[dict[str, Any]], result: Any) -> int | None:
        """Index of the lowest failed record, ``None`` for full success.

        A response that names no usable record (not an object, an empty identifier, one not in
        the batch) fails the whole batch: raised as :class:`InvalidResponse`, a function error,
        so bisect can still isolate the record behind it.
        """
        if result is None:
            return None
        if not isinstance(result, dict):
            raise InvalidResponse(f"function returned {type(result).__name__}, not an object")
        failures = result.get("batchItemFailures")
        if failures is None:
            return None
        if not isinstance(failures, list):
            raise InvalidResponse("batchItemFailures is not a list")
        if not failures:
            return None
        index = {r.get("dynamodb", {}).get("SequenceNumber"): i for i, r in enumerate(records)}
        positions: list[int] = []
        for failure in failures:
            ident = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not ident or ident not in index:
                raise InvalidResponse(f"itemIdentifier {ident!r} is not in the batch")
            positions.append(index[ident])
        return min(positions)

    def _backoff(self, attempts: int) -> None:
        self.metrics.add(retries=1)
        delay = min(self.retry_backoff * 2 ** (attempts - 1), 5.0)
        if self.sleep(delay):
            raise StopRequested

    def _give_up(
        self, records: list[dict[str, Any]], attempts: int, reason: str, error: str | None
    ) -> None:
        for record in records:
            self.destination.send(
                failure_message(
                    record=record,
                    shard_id=self.shard_id,
                    stream_arn=self.stream_arn,
                    function_name=self.function_name,
                    condition="RetryAttemptsExhausted",
                    reason=reason if error is None else f"{reason}: {error}",
                    attempts=attempts,
                    function_error="Unhandled" if error else None,
                )
            )
        self.metrics.add(records_failed=len(records))
