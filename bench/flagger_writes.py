"""The flagger's write step alone: 100-record batches, all flagged, into a DynamoDB Local table.

The handler puts new candidates in one TransactWriteItems per batch (conditioned on the item not
existing) and updates existing ones with UpdateItem from a small thread pool, so model_api's
review on an item survives redelivery. Compared in the same run, rounds interleaved so machine
load hits every way alike: the course's one PutItem per record, the earlier handler's BatchWriteItem
(25 a call; it wiped reviews), this handler on new records, this handler on the same batch
redelivered, and UpdateItem one after another (what the pool saves). ``python -m
bench.flagger_writes``.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flagger.config import FlaggerConfig
from flagger.handler import Flagger
from flagger.retrain import WRITE_THREADS, update_request
from infra.aws import local_client

from bench._common import dynamodb_local_with_tables
from tests.support.scorelog_kit import score_item

SCORE, RETRAIN = "BenchWritesScore", "BenchWritesRetrain"
BATCH = 100
ROUNDS = 8
CREATED_AT = datetime(2026, 12, 2, tzinfo=UTC)


def _image(run: str, row: int) -> dict[str, Any]:
    """A flagged score item as model_api writes it."""
    return score_item(run, row, "versicolor", "setosa", "0.97", CREATED_AT)


def _event(run: str) -> dict[str, Any]:
    records = []
    for row in range(BATCH):
        image = _image(run, row)
        records.append(
            {
                "eventName": "INSERT",
                "dynamodb": {
                    "Keys": {k: image[k] for k in ("partition_key", "sort_key")},
                    "NewImage": image,
                    "SequenceNumber": f"{row:021d}",
                },
            }
        )
    return {"Records": records}


def _items(event: dict[str, Any]) -> list[dict[str, Any]]:
    flagged = {"reasons": {"L": [{"S": "misclassified"}]}, "threshold": {"S": "0.9"}}
    return [
        {**r["dynamodb"]["NewImage"], **flagged, "flagged_at": {"S": "2026-12-02T00:00:01Z"}}
        for r in event["Records"]
    ]


def ways(ddb: Any) -> dict[str, Callable[[dict[str, Any]], None]]:
    handler = Flagger(FlaggerConfig(retrain_table=RETRAIN, threshold=0.9), ddb)

    def course_put(event: dict[str, Any]) -> None:
        for item in _items(event):
            ddb.put_item(TableName=RETRAIN, Item=item)

    def batch_write(event: dict[str, Any]) -> None:
        items = _items(event)
        for i in range(0, len(items), 25):
            request = {RETRAIN: [{"PutRequest": {"Item": it}} for it in items[i : i + 25]]}
            while request:
                request = ddb.batch_write_item(RequestItems=request)["UnprocessedItems"]

    def update_sequential(event: dict[str, Any]) -> None:
        for item in _items(event):
            ddb.update_item(**update_request(RETRAIN, item))

    def this(event: dict[str, Any]) -> None:
        assert handler.handle(event, None) == {"batchItemFailures": []}

    return {
        "course: PutItem per record": course_put,
        "before: BatchWriteItem (wiped reviews)": batch_write,
        "this, new records (1 transaction)": this,
        f"this, redelivered (UpdateItem x {WRITE_THREADS})": this,
        "UpdateItem one after another, redelivered": update_sequential,
    }


def run() -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    logging.getLogger("flagger").setLevel(logging.WARNING)  # not a line per batch
    with dynamodb_local_with_tables(SCORE, RETRAIN) as server:
        ddb = local_client(server.endpoint_url)
        named = ways(ddb)
        for round_ in range(ROUNDS + 1):  # round 0 warms the server and the connection pools
            fresh = _event(f"bench-writes-{round_}")  # written by "this, new records" first
            for n, (name, way) in enumerate(named.items()):
                # the last three ways share one batch: new, then redelivered twice
                event = fresh if n >= 2 else _event(f"bench-writes-{round_}-{n}")
                start = time.perf_counter()
                way(event)
                if round_:
                    timings.setdefault(name, []).append(time.perf_counter() - start)
    return timings


def report(timings: dict[str, list[float]]) -> None:
    print(
        f"\nFlagger write step: {ROUNDS} batches of {BATCH} flagged records per way, interleaved "
        "(one DynamoDB Local)"
    )
    print(f"{'way':<42} {'median ms/batch':>16} {'records/s':>10}")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name:<42} {median * 1000:>16.0f} {BATCH / median:>10.0f}")


def main() -> None:
    report(run())


if __name__ == "__main__":
    main()
