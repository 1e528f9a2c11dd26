"""The course's flagger next to this one: the same runner, the same burst, two handlers.

The course's function (its lab's ``lambda.py``: one PutItem per qualifying record, nothing
returned) is run by the same local mapping by its handler string, as this one is.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from iris_common.clock import utc_now

from bench._common import provision_tables
from bench.flagger_kit import WRITER_THREADS, RunnerProcess, item, pct, scan, ts
from tests.support.waits import wait_for

COMPARE_RECORDS = 1000


_course_client: Any = None


def course_lambda_handler(event: dict[str, Any], context: Any) -> None:
    """The course's function, as its lab describes it: one PutItem per qualifying record, nothing
    returned (so any error fails the whole batch). Run by the same local mapping through
    ``IRIS_LAMBDA_HANDLER=bench.flagger_compare.course_lambda_handler``."""
    global _course_client
    if _course_client is None:
        import boto3

        _course_client = boto3.client("dynamodb")
    table = os.environ["RETRAIN_TABLE"]
    threshold = float(os.environ.get("CONFIDENCE_THRESHOLD", "0.9"))
    for record in event["Records"]:
        if record["eventName"] not in ("INSERT", "MODIFY"):
            continue
        image = record["dynamodb"]["NewImage"]
        wrong = image["Class"]["S"] != image["Actual"]["S"]
        if wrong or float(image["Probability"]["S"]) < threshold:
            flagged = {"S": utc_now("microseconds")}
            _course_client.put_item(TableName=table, Item={**image, "flagged_at": flagged})


def bulk_phase(ddb: Any, score: str, retrain: str, records: int) -> dict[str, float]:
    """``records`` flagged records written with BatchWriteItem x 4 threads; latency and drain."""
    run = f"bench-bulk-{score}"
    chunks = [list(range(i, min(i + 25, records))) for i in range(0, records, 25)]

    def write(chunk: list[int]) -> None:
        now = time.time()
        request = {score: [{"PutRequest": {"Item": item(run, r, True, now)}} for r in chunk]}
        while request:
            request = ddb.batch_write_item(RequestItems=request)["UnprocessedItems"]

    start = time.time()
    with ThreadPoolExecutor(WRITER_THREADS) as pool:
        list(pool.map(write, chunks))
    writes_done = time.time()
    wait_for(lambda: len(scan(ddb, run, retrain)) >= records, 300, "every copy")
    items = scan(ddb, run, retrain)
    lat = [ts(i["flagged_at"]["S"]) - ts(i["created_at"]["S"]) for i in items]
    last = max(ts(i["flagged_at"]["S"]) for i in items)
    return {
        "records": len(lat),
        "write_rate": records / (writes_done - start),
        "p50": pct(lat, 50),
        "p99": pct(lat, 99),
        "drain": last - writes_done,
    }


def compare_handlers(env: dict[str, str], ddb: Any) -> dict[str, dict[str, float]]:
    """The same ``python -m infra.esm`` and the same burst: the course-style handler, then this."""
    results: dict[str, dict[str, float]] = {}
    for name in ("course", "this"):
        score, retrain = f"BenchCmp{name}", f"BenchCmp{name}Retrain"
        provision_tables(env["AWS_ENDPOINT_URL"], score, retrain)
        run_env = env | {
            "IRIS_SCORE_TABLE": score,
            "IRIS_RETRAIN_TABLE": retrain,
            "RETRAIN_TABLE": retrain,
            "IRIS_DATA_DIR": f"{env['IRIS_DATA_DIR']}-{name}",
        }
        if name == "course":
            run_env["IRIS_LAMBDA_HANDLER"] = "bench.flagger_compare.course_lambda_handler"
        runner = RunnerProcess(run_env)
        runner.start()
        try:
            wait_for(lambda r=runner: bool(r.metrics), 60, "the runner's first metrics")
            results[name] = bulk_phase(ddb, score, retrain, COMPARE_RECORDS)
        finally:
            runner.stop()
    return results
