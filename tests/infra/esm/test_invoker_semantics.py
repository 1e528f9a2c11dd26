"""Batch semantics of the local mapping (no AWS): item failures, bisect, bounded retries."""

from __future__ import annotations

from typing import Any

import pytest
from infra.esm.destination import FailureDestination
from infra.esm.invoker import BatchInvoker, StopRequested
from infra.esm.metrics import Metrics


def records(n: int) -> list[dict[str, Any]]:
    return [
        {
            "eventID": f"e{i}",
            "eventName": "INSERT",
            "dynamodb": {
                "Keys": {"partition_key": {"S": "run"}, "sort_key": {"S": f"{i:06d}"}},
                "SequenceNumber": f"{100 + i:021d}",
            },
        }
        for i in range(n)
    ]


def seq(i: int) -> str:
    return f"{100 + i:021d}"


class ScriptedHandler:
    """Records every invocation's sort keys; ``decide`` returns the response or raises."""

    def __init__(self, decide) -> None:
        self.decide = decide
        self.calls: list[list[int]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        rows = [int(r["dynamodb"]["Keys"]["sort_key"]["S"]) for r in event["Records"]]
        self.calls.append(rows)
        return self.decide(rows, len(self.calls))


def make_invoker(handler, tmp_path, **kwargs) -> BatchInvoker:
    return BatchInvoker(
        handler=handler,
        destination=FailureDestination(tmp_path / "failures.jsonl"),
        metrics=Metrics(),
        stream_arn="arn:stream",
        shard_id="shard-1",
        function_name="iris-retrain-flagger",
        retry_backoff=0.0,
        **kwargs,
    )


def failed_rows(invoker: BatchInvoker) -> list[str]:
    return [m["keys"]["sort_key"] for m in invoker.destination.read_all()]


def test_full_success_invokes_once(tmp_path):
    handler = ScriptedHandler(lambda rows, n: {"batchItemFailures": []})
    invoker = make_invoker(handler, tmp_path)
    invoker.process(records(5))
    assert handler.calls == [[0, 1, 2, 3, 4]]
    assert invoker.metrics.records_succeeded == 5


def test_transient_item_failure_resumes_from_the_lowest_failed_record(tmp_path):
    def decide(rows, n):
        if n == 1:
            return {"batchItemFailures": [{"itemIdentifier": seq(4)}, {"itemIdentifier": seq(2)}]}
        return {"batchItemFailures": []}

    handler = ScriptedHandler(decide)
    invoker = make_invoker(handler, tmp_path)
    invoker.process(records(6))
    assert handler.calls == [[0, 1, 2, 3, 4, 5], [2, 3, 4, 5]]
    assert failed_rows(invoker) == []
    assert invoker.metrics.records_succeeded == 6


def test_poison_item_is_retried_a_bounded_number_of_times_then_sent_away(tmp_path):
    def decide(rows, n):
        return {"batchItemFailures": [{"itemIdentifier": seq(2)}] if 2 in rows else []}

    handler = ScriptedHandler(decide)
    invoker = make_invoker(handler, tmp_path, max_retries=2)
    invoker.process(records(5))
    assert handler.calls == [[0, 1, 2, 3, 4], [2, 3, 4], [2, 3, 4], [3, 4]]
    assert failed_rows(invoker) == ["000002"]
    message = invoker.destination.read_all()[0]
    assert message["attempts"] == 3
    assert message["DDBStreamBatchInfo"]["shardId"] == "shard-1"
    assert invoker.metrics.records_failed == 1
    assert invoker.metrics.records_succeeded == 4


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"nope": 1}]},
        {"batchItemFailures": "everything"},
        "garbage",
    ],
)
def test_unusable_response_fails_the_whole_batch(tmp_path, response):
    handler = ScriptedHandler(lambda rows, n: response if n == 1 else None)
    invoker = make_invoker(handler, tmp_path, bisect_on_error=False)
    invoker.process(records(3))
    assert handler.calls == [[0, 1, 2], [0, 1, 2]]
    assert invoker.metrics.function_errors == 1


def test_unusable_response_is_bisected_down_to_the_record_causing_it(tmp_path):
    def decide(rows, n):
        # e.g. a record without a sequence number makes the function report ""
        return {"batchItemFailures": [{"itemIdentifier": ""}]} if 3 in rows else None

    handler = ScriptedHandler(decide)
    invoker = make_invoker(handler, tmp_path, max_retries=1)
    invoker.process(records(6))
    assert failed_rows(invoker) == ["000003"]
    assert invoker.metrics.records_succeeded == 5


def test_function_error_bisects_to_the_bad_record(tmp_path):
    def decide(rows, n):
        if 5 in rows:
            raise RuntimeError("crash")
        return {"batchItemFailures": []}

    handler = ScriptedHandler(decide)
    invoker = make_invoker(handler, tmp_path, max_retries=1)
    invoker.process(records(8))
    assert failed_rows(invoker) == ["000005"]
    succeeded = sorted({r for call in handler.calls for r in call if 5 not in call})
    assert succeeded == [0, 1, 2, 3, 4, 6, 7]
    assert handler.calls.count([5]) == 2  # the first try plus one retry
    order = [call for call in handler.calls if 5 not in call]
    assert order == sorted(order)  # halves are processed in stream order


def test_function_error_without_bisect_sends_the_whole_batch_after_retries(tmp_path):
    def decide(rows, n):
        raise RuntimeError("always")

    handler = ScriptedHandler(decide)
    invoker = make_invoker(handler, tmp_path, max_retries=2, bisect_on_error=False)
    invoker.process(records(3))
    assert len(handler.calls) == 3
    assert failed_rows(invoker) == ["000000", "000001", "000002"]
    assert all(m["reason"].startswith("function error") for m in invoker.destination.read_all())


def test_stop_during_retry_backoff_abandons_the_batch(tmp_path):
    handler = ScriptedHandler(lambda rows, n: {"batchItemFailures": [{"itemIdentifier": seq(0)}]})
    invoker = make_invoker(handler, tmp_path, max_retries=5)
    invoker.sleep = lambda _delay: True  # stop was requested
    with pytest.raises(StopRequested):
        invoker.process(records(2))
    assert failed_rows(invoker) == []  # nothing given up: it is redelivered after restart
