"""Unreadable records never stall the stream: the local runner, the real handler, DynamoDB Local.

A run of 1,200 unreadable records once held the stream for over an hour (each was reported,
retried with back-off and bisected). Now each is copied at once as ``unreadable``: no retry, no
bisection, and the normal run written after them arrives as usual. Timing is measured in
``bench/flagger_bench.py`` (team rule: no timed assertions in tests).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import pytest
from flagger.config import FlaggerConfig
from flagger.handler import Flagger
from infra.esm import EsmRunner
from infra.esm.destination import FailureDestination, failure_message
from infra.esm.invoker import BatchInvoker
from infra.esm.replay import replay_failures

pytestmark = pytest.mark.integration

BAD_RUN = "20261125T031509123Z-dead"
GOOD_RUN = "20261125T031600000Z-600d"
# What course-era or broken writers leave: a non-number, non-finite or out-of-range probability,
# a missing field, a field of the wrong type.
BREAKAGES: list[tuple[str, Any]] = [
    ("Probability", {"S": "abc"}),
    ("Probability", {"S": "NaN"}),
    ("Probability", {"S": "inf"}),
    ("Probability", {"S": "1.5"}),
    ("Class", None),
    ("Actual", {"BOOL": True}),
]


def unreadable_items(make_score_item: Any, count: int) -> list[dict[str, Any]]:
    items = []
    for row in range(count):
        item = make_score_item(BAD_RUN, row, "setosa", "setosa", "0.99")
        name, value = BREAKAGES[row % len(BREAKAGES)]
        if value is None:
            del item[name]
        else:
            item[name] = value
        items.append(item)
    return items


def test_1200_unreadable_records_are_copied_at_once_and_the_next_run_arrives(
    esm_tables, make_items, make_score_item, tmp_path
):
    bad = unreadable_items(make_score_item, 1200)
    good, expected_good = make_items(GOOD_RUN, 300)
    esm_tables.batch_put(bad)
    esm_tables.batch_put(good)
    esm_tables.wait_streamed()

    runner = EsmRunner(esm_tables.settings(tmp_path))
    snapshot = runner.run_until_idle(timeout=300)

    items = esm_tables.retrain_items()
    by_run = Counter(i["partition_key"]["S"] for i in items)
    assert by_run == {BAD_RUN: 1200, GOOD_RUN: len(expected_good)}
    unreadable = [i for i in items if i["partition_key"]["S"] == BAD_RUN]
    assert all(i["reasons"] == {"L": [{"S": "unreadable"}]} for i in unreadable)
    assert all(i["unreadable_error"]["S"] for i in unreadable)
    assert {(i["partition_key"]["S"], i["sort_key"]["S"]) for i in items} - {
        (BAD_RUN, f"{r:06d}") for r in range(1200)
    } == expected_good
    # Never retried, never bisected, nothing given up on.
    assert snapshot.retries == 0
    assert snapshot.bisections == 0
    assert snapshot.partial_failures == 0
    assert snapshot.function_errors == 0
    assert snapshot.records_failed == 0
    assert snapshot.records_succeeded == snapshot.records_seen == 1500
    assert runner.destination.read_all() == []


def test_a_keyless_record_reaches_the_runners_on_failure_file_as_the_mapping_sends_it(
    esm_tables, tmp_path
):
    """A record with no usable key (a direct call: a real stream always has keys) is reported by
    the function, which has no on-failure queue here; the runner, after its retries, sends it
    to its on-failure file with the batch's metadata, as AWS's mapping does."""
    runner = EsmRunner(esm_tables.settings(tmp_path, esm_max_retries=1))
    record = {
        "eventID": "e1",
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": "7", "NewImage": {"Probability": {"S": "0.3"}}},
    }
    invoker = BatchInvoker(
        runner.handler,
        runner.destination,
        runner.metrics,
        stream_arn="arn:aws:dynamodb:local:000000000000:table/t/stream/s",
        shard_id="shardId-1",
        function_name=runner.settings.function_name,
        max_retries=1,
        retry_backoff=0.0,
    )
    invoker.process([record])
    (message,) = runner.destination.read_all()
    assert message["record"] == json.loads(json.dumps(record))
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["reason"] == "reported in batchItemFailures"
    assert message["attempts"] == 2  # the first invocation plus one retry
    assert esm_tables.retrain_items() == []


def test_replay_keeps_a_record_the_function_still_cannot_read(tmp_path):
    """Replay sends a keyless record through the function again; it is still reported, so it
    stays in the file with its attempts counted (nothing lost, no deadlock)."""
    destination = FailureDestination(tmp_path / "failures.jsonl")
    flagger = Flagger(FlaggerConfig(), client=None)  # type: ignore[arg-type]
    keyless = {
        "eventID": "e2",
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": "8", "NewImage": {"Probability": {"S": "abc"}}},
    }
    destination.send(
        failure_message(
            record=keyless,
            shard_id="shardId-1",
            stream_arn="arn:aws:dynamodb:local:000000000000:table/t/stream/s",
            function_name="iris-retrain-flagger",
            condition="RetryAttemptsExhausted",
            reason="reported in batchItemFailures",
            attempts=4,
            function_error=None,
        )
    )
    done = threading.Event()
    report: list[Any] = []
    worker = threading.Thread(
        target=lambda: (
            report.append(replay_failures(destination, flagger.handle, "iris-retrain-flagger")),
            done.set(),
        )
    )
    worker.start()
    assert done.wait(30), "replay deadlocked"
    assert report[0].as_dict() == {
        "replayed": 1,
        "succeeded": 0,
        "still_failing": 1,
        "not_replayable": 0,
    }
    (left,) = destination.read_all()
    assert left["record"] == keyless and left["attempts"] == 5
