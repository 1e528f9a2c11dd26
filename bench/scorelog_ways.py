"""The ways the score log benchmark writes a run: the course's, the engine's ceiling, ScoreLog.

Rows are the bundled data set, cycled, scored as model_api would, and every item is built by the
product's own builder (``model_api.scorelog.items.build_items``).
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aioboto3
import boto3
from aiobotocore.config import AioConfig
from botocore.config import Config
from model_api.runs.batch_test import TestedRow, TestRunInfo
from model_api.runs.store import new_run_id
from model_api.scorelog.items import build_items
from model_api.scorelog.service import ScoreLog

CLASSES = ["setosa", "versicolor", "virginica"]
CONCURRENCY = 8  # ScoreLog's in-flight BatchWriteItem requests (the product default)


def new_run() -> TestRunInfo:
    """A run exactly as model_api hands it to the score log (its own type, not a copy)."""
    return TestRunInfo(new_run_id(), 0, 0, list(CLASSES), datetime.now(UTC))


def scored(n: int, data: list[dict[str, Any]]) -> list[TestedRow]:
    out = []
    for i in range(n):
        row = data[i % len(data)]
        probs = [0.004, 0.004, 0.004]
        probs[CLASSES.index(row["species"])] = 0.988
        out.append(TestedRow(i, row, row["species"], probs))
    return out


def count(endpoint: str, table: str) -> int:
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    pages = ddb.get_paginator("scan").paginate(TableName=table, Select="COUNT")
    return sum(p["Count"] for p in pages)


def course_way(endpoint: str, table: str, run: TestRunInfo, rows: list[TestedRow]) -> float:
    """The course's ``post_score()``: one synchronous ``put_item`` per record. Seconds taken."""
    ddb = boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    log_table = ddb.Table(table)

    def post_score(key: str, sort: str, feature: str, cls: str, actual: str, prob: str) -> None:
        log_table.put_item(
            Item={
                "partition_key": key,
                "sort_key": sort,
                "Features": feature,
                "Class": cls,
                "Actual": actual,
                "Probability": prob,
            }
        )

    items = [i for _, i in build_items(run, rows)]
    start = time.perf_counter()
    for item in items:
        post_score(*(item[k]["S"] for k in ("partition_key", "sort_key", "Features", "Class")),
                   item["Actual"]["S"], item["Probability"]["S"])  # fmt: skip
    return time.perf_counter() - start


async def _aio_ceiling(endpoint: str, table: str, items: list[dict[str, Any]], conc: int) -> None:
    config = AioConfig(max_pool_connections=conc, retries={"total_max_attempts": 1})
    session = aioboto3.Session()
    async with session.client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", config=config
    ) as ddb:
        chunks = [items[i : i + 25] for i in range(0, len(items), 25)]
        sem = asyncio.Semaphore(conc)

        async def send(chunk: list[dict[str, Any]]) -> None:
            async with sem:
                todo = chunk
                while todo:
                    req = {table: [{"PutRequest": {"Item": i}} for i in todo]}
                    resp = await ddb.batch_write_item(RequestItems=req)
                    todo = [
                        r["PutRequest"]["Item"] for r in resp["UnprocessedItems"].get(table, [])
                    ]

        await asyncio.gather(*(send(c) for c in chunks))


def _thread_ceiling(endpoint: str, table: str, items: list[dict[str, Any]], conc: int) -> None:
    local = threading.local()
    config = Config(max_pool_connections=conc, retries={"total_max_attempts": 1})

    def send(chunk: list[dict[str, Any]]) -> None:
        if not hasattr(local, "ddb"):
            local.ddb = boto3.client(
                "dynamodb", endpoint_url=endpoint, region_name="us-east-1", config=config
            )
        todo = chunk
        while todo:
            resp = local.ddb.batch_write_item(
                RequestItems={table: [{"PutRequest": {"Item": i}} for i in todo]}
            )
            todo = [r["PutRequest"]["Item"] for r in resp["UnprocessedItems"].get(table, [])]

    with ThreadPoolExecutor(conc) as pool:
        list(pool.map(send, [items[i : i + 25] for i in range(0, len(items), 25)]))


def ceiling(endpoint: str, table: str, run: TestRunInfo, rows: list[TestedRow], conc: int) -> float:
    """Prebuilt items, raw BatchWriteItem with ``conc`` requests in flight (asyncio). Seconds."""
    items = [i for _, i in build_items(run, rows)]
    start = time.perf_counter()
    asyncio.run(_aio_ceiling(endpoint, table, items, conc))
    return time.perf_counter() - start


def ceiling_threads(
    endpoint: str, table: str, run: TestRunInfo, rows: list[TestedRow], conc: int
) -> float:
    items = [i for _, i in build_items(run, rows)]
    start = time.perf_counter()
    _thread_ceiling(endpoint, table, items, conc)
    return time.perf_counter() - start


async def _scorelog(
    endpoint: str, table: str, run: TestRunInfo, rows: list[TestedRow]
) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="scorelog-bench-") as tmp:
        log = ScoreLog(Path(tmp), table, endpoint_url=endpoint, concurrency=CONCURRENCY)
        await log.start()
        start = time.perf_counter()
        await log.submit(run, rows)
        submitted = time.perf_counter() - start
        idle = await log.wait_idle(run.run_id, timeout=600)
        total = time.perf_counter() - start
        status = log.status(run.run_id)
        await log.stop()
    if not idle or status["written"] != len(rows):
        raise RuntimeError(f"ScoreLog did not write everything: {status}")
    return submitted, total


def scorelog_way(
    endpoint: str, table: str, run: TestRunInfo, rows: list[TestedRow]
) -> tuple[float, float]:
    """Submit (durable in the outbox) then wait until every record is written. (submit, total)."""
    return asyncio.run(_scorelog(endpoint, table, run, rows))
