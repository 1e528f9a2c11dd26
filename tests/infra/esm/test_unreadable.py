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
from infra.esm.destination import FailureDestination
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


def test_the_runner_gives_the_function_its_destination_for_keyless_records(esm_tables, tmp_path):
    """A record with no usable key goes to the runner's on-failure file at once, as the deployed
    function sends it to the on-failure queue (a real stream always has keys: a direct call)."""
    runner = EsmRunner(esm_tables.settings(tmp_path))
    record = {
        "eventID": "e1",
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": "7", "NewImage": {"Probability": {"S": "0.3"}}},
    }
    assert runner.handler({"Records": [record]}, None) == {"batchItemFailures": []}
    (message,) = runner.destination.read_all()
    assert message["record"] == json.loads(json.dumps(record))
    assert message["requestContext"]["condition"] == "Unreadable"
    assert message["reason"].startswith("unreadable: ")
    assert esm_tables.retrain_items() == []


def test_replay_keeps_unreadable_records_and_what_the_function_sends_meanwhile(tmp_path):
    """Replay holds the failures file while the function may send to it: no deadlock, no loss."""
    destination = FailureDestination(tmp_path / "failures.jsonl")
    flagger = Flagger(FlaggerConfig(), client=None, failure_sink=destination)  # type: ignore[arg-type]
    keyless = {
        "eventID": "e2",
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": "8", "NewImage": {"Probability": {"S": "abc"}}},
    }
    flagger.handle({"Records": [keyless]}, None)  # the function's own message
    (unreadable,) = destination.read_all()
    gave_up = unreadable | {"requestContext": {"condition": "RetryAttemptsExhausted"}}
    destination.rewrite([unreadable, gave_up])  # + an older give-up of the same record

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
        "succeeded": 1,
        "still_failing": 0,
        "not_replayable": 1,
    }
    left = destination.read_all()
    assert [m["requestContext"]["condition"] for m in left] == ["Unreadable", "Unreadable"]
    assert all(m["record"] == keyless for m in left)
