"""Score log benchmark (issue 3, "How fast"): ScoreLog vs the course's ``post_score()`` vs the
engine's ceiling, on loopback and through a 100 ms latency proxy; then the rate after the table
and its stream have grown to 50,000 records.

Everything runs against dedicated DynamoDB Local servers started here on free ports (tables with
stream NEW_IMAGE, as provisioning makes them).
Run: ``uv run --frozen python -m bench scorelog``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aioboto3
import boto3
import model_api
from aiobotocore.config import AioConfig
from botocore.config import Config
from infra.aws import LOCAL_CREDENTIALS
from infra.local.dynamodb_local import DynamoDBLocal, free_port
from model_api.runs.batch_test import TestedRow, TestRunInfo
from model_api.runs.store import new_run_id
from model_api.scorelog.items import build_items
from model_api.scorelog.service import ScoreLog

from bench._common import dynamodb_local_with_tables, provision_tables

CLASSES = ["setosa", "versicolor", "virginica"]
SMALL, LARGE = 1_200, 10_000
LATENCY = 0.100  # added per request round trip by the proxy
SEED_SAMPLE_LOOPBACK = 300  # the course's way at loopback: sampled, extrapolated (both sizes)
SEED_SAMPLE_PROXY = 50  # the course's way at 100 ms: sampled, extrapolated (both sizes)
CONCURRENCY = 8  # ScoreLog's in-flight BatchWriteItem requests (the product default)
GROWTH_TARGET = 50_000


# --- data: the bundled data set, cycled, scored as model_api would ---


def new_run() -> TestRunInfo:
    """A run exactly as model_api hands it to the score log (its own type, not a copy)."""
    return TestRunInfo(new_run_id(), 0, 0, list(CLASSES), datetime.now(UTC))


def bundled() -> list[dict[str, Any]]:
    path = Path(model_api.__file__).parent / "data" / "iris_extended_encoded.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    rows = []
    for line in lines[1:]:
        values = line.split(",")
        row: dict[str, Any] = {"species": values[0]}
        for name, value in zip(header[1:], values[1:], strict=True):
            row[name] = int(value) if name == "soil_type" else float(value)
        rows.append(row)
    return rows


def scored(n: int, data: list[dict[str, Any]]) -> list[TestedRow]:
    out = []
    for i in range(n):
        row = data[i % len(data)]
        probs = [0.004, 0.004, 0.004]
        probs[CLASSES.index(row["species"])] = 0.988
        out.append(TestedRow(i, row, row["species"], probs))
    return out


# --- a latency proxy: +LATENCY per request round trip (half each way), like a distant region ---


class LatencyProxy:
    """TCP proxy on 127.0.0.1 adding ``delay / 2`` to each direction (so ``delay`` per round
    trip), without serialising requests: chunks are scheduled, not queued behind each other."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.one_way = delay / 2
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()
        server.close()
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                await asyncio.sleep(max(0.0, due - loop.time()))
                writer.write(data)
                await writer.drain()
            with contextlib.suppress(OSError):
                writer.close()

        sender = asyncio.create_task(deliver())
        try:
            while data := await reader.read(65536):
                queue.put_nowait((loop.time() + self.one_way, data))
        except OSError:
            pass
        queue.put_nowait((0.0, b""))
        with contextlib.suppress(OSError):
            await sender

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(self._pipe(client_r, up_w), self._pipe(up_r, client_w))
        except asyncio.CancelledError:  # the proxy is shutting down: end quietly
            for writer in (client_w, up_w):
                writer.close()


# --- the three ways of writing ---


def count(endpoint: str, table: str) -> int:
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    pages = ddb.get_paginator("scan").paginate(TableName=table, Select="COUNT")
    return sum(p["Count"] for p in pages)


def seed_way(endpoint: str, table: str, run: TestRunInfo, rows: list[TestedRow]) -> float:
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


# --- reporting ---


@dataclass
class Line:
    setting: str
    way: str
    rows: int
    seconds: float
    note: str = ""
    submit: float = 0.0  # ScoreLog only: the part spent in submit (building + persisting)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def progress(line: Line) -> None:
    print(f"  .. {line.setting} {line.way} {line.rows}: {line.seconds:.2f} s", flush=True)


def print_table(lines: list[Line]) -> None:
    print(f"\n{'setting':<10} {'way':<34} {'rows':>7} {'seconds':>9} {'rows/s':>9}  note")
    print("-" * 100)
    for ln in lines:
        print(
            f"{ln.setting:<10} {ln.way:<34} {ln.rows:>7} {ln.seconds:>9.2f} {ln.rate:>9.0f}  "
            f"{ln.note}"
        )


_table_seq = iter(range(1_000_000))


def fresh_table(endpoint: str) -> str:
    name = f"IrisBench{next(_table_seq)}"
    provision_tables(endpoint, name)
    return name


@contextlib.contextmanager
def endpoint_for(setting: str) -> Iterator[str]:
    """A fresh in-memory DynamoDB Local for one measurement (stream data left by earlier
    measurements slows the engine down, see the growth table), behind the proxy if asked."""
    with DynamoDBLocal(port=free_port()) as server:
        if setting == "loopback":
            yield server.endpoint_url
        else:
            with LatencyProxy(server.port, LATENCY) as proxy:
                yield f"http://127.0.0.1:{proxy.port}"


RawWay = Callable[[str, str, TestRunInfo, list[TestedRow]], float]


def measure_raw(setting: str, way: RawWay, rows: list[TestedRow]) -> float:
    with endpoint_for(setting) as endpoint:
        return way(endpoint, fresh_table(endpoint), new_run(), rows)


def measure_scorelog(setting: str, rows: list[TestedRow]) -> tuple[float, float]:
    with endpoint_for(setting) as endpoint:
        table = fresh_table(endpoint)
        submit, total = scorelog_way(endpoint, table, new_run(), rows)
        if count(endpoint, table) != len(rows):
            raise RuntimeError("ScoreLog run incomplete in the table")
    return submit, total


def throughput_suite(
    setting: str, data: list[dict[str, Any]], best_raw: str | None
) -> tuple[list[Line], str]:
    """The three ways on the 1,200- and 10,000-row tests (one setting), each measurement on
    its own fresh server so that none inherits another's stream data."""
    lines: list[Line] = []
    proxied = setting != "loopback"
    # The course's way: a sample, extrapolated linearly (one put_item per record: linear by nature).
    sample = SEED_SAMPLE_PROXY if proxied else SEED_SAMPLE_LOOPBACK
    per_record = measure_raw(setting, seed_way, scored(sample, data)) / sample
    for n in (SMALL, LARGE):
        note = f"{sample} records measured ({per_record * sample:.2f} s), extrapolated"
        lines.append(Line(setting, "course post_score() put_item", n, per_record * n, note))
    progress(lines[-1])

    ways: dict[str, RawWay] = {
        f"asyncio {c}": (lambda e, t, r, rows, c=c: ceiling(e, t, r, rows, c)) for c in (8, 16, 32)
    }
    ways["16 threads"] = lambda e, t, r, rows: ceiling_threads(e, t, r, rows, 16)
    repeats = 1 if proxied else 2  # loopback is the fine comparison: best of 2, alternating
    for n in (SMALL, LARGE):
        rows = scored(n, data)
        ours = [measure_scorelog(setting, rows)]
        if best_raw is None:  # loopback, small test: try every raw loop, keep the fastest
            raw = {name: measure_raw(setting, way, rows) for name, way in ways.items()}
            best_raw = min(raw, key=lambda k: raw[k])
            note = "best of " + ", ".join(f"{k}: {n / v:.0f}/s" for k, v in raw.items())
        else:
            raw = {best_raw: measure_raw(setting, ways[best_raw], rows)}
            note = f"{best_raw} (the fastest raw loop on loopback, 1,200 rows)"
        for _ in range(repeats - 1):
            ours.append(measure_scorelog(setting, rows))
            raw[best_raw] = min(raw[best_raw], measure_raw(setting, ways[best_raw], rows))
        if repeats > 1:
            note += f"; {best_raw} best of {repeats}"
        lines.append(Line(setting, "ceiling: raw BatchWriteItem", n, raw[best_raw], note))
        progress(lines[-1])
        submit, total = min(ours, key=lambda st: st[1])
        note = f"submit (durable; all the HTTP response waits for) {submit * 1000:.0f} ms"
        if repeats > 1:
            note = f"best of {repeats}; " + note
        lines.append(Line(setting, f"ScoreLog ({CONCURRENCY} in flight)", n, total, note, submit))
        progress(lines[-1])
    assert best_raw is not None
    return lines, best_raw


def stream_store_stats(db_file: Path) -> tuple[int, int]:
    """(stream records kept, database bytes) from DynamoDB Local's own SQLite file."""
    with contextlib.closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as db:
        (records,) = db.execute("SELECT count(*) FROM us").fetchone()
    return int(records), db_file.stat().st_size


def stream_read_seconds(endpoint: str, table: str) -> float:
    """What a stream consumer starting at TRIM_HORIZON pays: describe, iterator, 1st page."""
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1")
    start = time.perf_counter()
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    streams.get_records(ShardIterator=it, Limit=100)
    return time.perf_counter() - start


def growth_suite(data: list[dict[str, Any]]) -> None:
    """Rate on a fresh table vs after 50,000 records (stream on), on a persisted server so the
    stream store can be inspected."""
    with tempfile.TemporaryDirectory(prefix="scorelog-growth-") as tmp:
        table = f"IrisBench{next(_table_seq)}"
        with dynamodb_local_with_tables(table, data_dir=Path(tmp) / "ddb") as server:
            endpoint = server.endpoint_url
            db_file = Path(tmp) / "ddb" / "shared-local-instance.db"
            print("\nGrowth: ScoreLog runs into one table with its stream on (persisted server)")
            print(f"{'records before':>15} {'run rows':>9} {'rows/s':>8} {'stream recs kept':>17} "
                  f"{'db MB':>7} {'TRIM_HORIZON read s':>20}")  # fmt: skip
            before, rates = 0, []
            while before <= GROWTH_TARGET:
                n = LARGE  # the last run starts with GROWTH_TARGET records in the table
                _, total = scorelog_way(endpoint, table, new_run(), scored(n, data))
                rates.append(n / total)
                kept, size = stream_store_stats(db_file)
                read = stream_read_seconds(endpoint, table)
                print(f"{before:>15,} {n:>9,} {n / total:>8.0f} {kept:>17,} {size / 1e6:>7.1f} "
                      f"{read:>20.3f}", flush=True)  # fmt: skip
                before += n
            first, last = statistics.mean(rates[:2]), rates[-1]
            print(
                f"rate after {GROWTH_TARGET:,} records: {last:.0f} rows/s "
                f"({last / first * 100:.0f}% of the first two runs' {first:.0f})"
            )


@contextlib.contextmanager
def local_credentials() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ["AWS_ACCESS_KEY_ID"] = LOCAL_CREDENTIALS["aws_access_key_id"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = LOCAL_CREDENTIALS["aws_secret_access_key"]
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def summarise(lines: list[Line]) -> None:
    def get(setting: str, prefix: str, n: int) -> Line:
        return next(ln for ln in lines if ln.setting == setting and ln.way.startswith(prefix)
                    and ln.rows == n)  # fmt: skip

    print("\nTargets")
    for n in (SMALL, LARGE):
        ours = get("loopback", "ScoreLog", n)
        share = get("loopback", "ceiling", n).seconds / ours.seconds
        writer = get("loopback", "ceiling", n).seconds / (ours.seconds - ours.submit)
        print(f"  loopback, {n:>6,} rows: ScoreLog at {share * 100:.0f}% of the engine's ceiling "
              f"(target >= 80%); its writer alone, after submit: {writer * 100:.0f}%")  # fmt: skip
    for n in (SMALL, LARGE):
        course = get("+100ms", "course", n).seconds
        ours = get("+100ms", "ScoreLog", n).seconds
        print(f"  +100 ms,  {n:>6,} rows: ScoreLog {course / ours:.0f}x the course's way "
              "(target >= 50x)")  # fmt: skip
    per_record = get("+100ms", "course", SMALL).seconds / SMALL
    small = get("+100ms", "ScoreLog", SMALL).seconds
    print(
        f"  +100 ms: 1,200-row test logged in {small:.2f} s; the course's way needs "
        f"{25 * per_record:.2f} s for 25 records ({small / per_record:.1f} records' worth)"
    )


def main() -> None:
    data = bundled()
    started = time.perf_counter()
    print("Score log benchmark: a fresh in-memory DynamoDB Local per measurement, stream NEW_IMAGE")
    with local_credentials():
        lines, best_raw = throughput_suite("loopback", data, None)
        lines += throughput_suite("+100ms", data, best_raw)[0]
        print_table(lines)
        summarise(lines)
    with local_credentials():
        growth_suite(data)
    print(f"\n(bench took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
