"""Retrain flagger benchmark: write→flag latency and keep-up of the local event source mapping.

Runs DynamoDB Local (persisting to a temp dir, as ``make run`` does) and ``python -m infra.esm``
as a subprocess with its default settings (batch 100, poll 0.2 s), then:

1. latency: 300 flagged records written one by one with PutItem at full speed (the course's
   writer: one ``post_score`` per row) — latency = retrain item's ``flagged_at`` - write time;
2. keep-up: 10,000 records (10 % flagged) written with BatchWriteItem from 4 threads at full
   speed — backlog (written - delivered) and latency per 5 s window, and the drain time after the
   last write.

The course's flagger is a console-created Lambda trigger on AWS, which cannot run here; its
documented defaults are printed next to the measured figures for comparison.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from infra.aws import local_client

from bench._common import dynamodb_local_with_tables
from bench.flagger_compare import compare_handlers
from bench.flagger_kit import (
    RETRAIN,
    SCORE,
    WRITER_THREADS,
    RunnerProcess,
    item,
    pct,
    scan,
    ts,
)
from bench.flagger_report import WINDOW_S
from bench.flagger_report import report as report_flagger
from tests.support.waits import wait_for

LATENCY_RECORDS = 300
KEEPUP_RECORDS = 10_000


def latency_phase(
    ddb: Any, score: str = SCORE, retrain: str = RETRAIN, records: int = LATENCY_RECORDS
) -> dict[str, float]:
    run = f"bench-latency-{score}"
    start = time.time()
    for row in range(records):
        now = time.time()
        ddb.put_item(TableName=score, Item=item(run, row, True, now))
    write_s = time.time() - start
    wait_for(lambda: len(scan(ddb, run, retrain)) >= records, 120, "every copy")
    items = scan(ddb, run, retrain)
    lat = [ts(i["flagged_at"]["S"]) - ts(i["created_at"]["S"]) for i in items]
    return {
        "records": len(lat),
        "write_rate": records / write_s,
        "p50": pct(lat, 50),
        "p90": pct(lat, 90),
        "p99": pct(lat, 99),
        "max": max(lat),
        "mean": statistics.fmean(lat),
    }


def keepup_phase(ddb: Any, runner: RunnerProcess, seen_before: int) -> dict[str, Any]:
    run = "bench-keepup"
    rows = list(range(KEEPUP_RECORDS))
    chunks = [rows[i : i + 25] for i in range(0, len(rows), 25)]
    written = 0
    acked: dict[str, float] = {}  # sort_key -> when BatchWriteItem returned for it
    lock = threading.Lock()
    timeline: list[tuple[float, int, int, float]] = []
    done = threading.Event()

    def write(chunk: list[int]) -> None:
        nonlocal written
        now = time.time()
        request = {SCORE: [{"PutRequest": {"Item": item(run, r, r % 10 == 0, now)}} for r in chunk]}
        while request:
            request = ddb.batch_write_item(RequestItems=request)["UnprocessedItems"]
        ack = time.time()
        with lock:
            written += len(chunk)
            acked.update({f"{r:06d}": ack for r in chunk})

    def sample() -> None:
        t0 = time.time()
        while not done.is_set():
            m = runner.latest()
            seen = int(m.get("records_seen", 0)) - seen_before
            with lock:
                timeline.append((time.time() - t0, written, seen, float(m.get("lag_seconds", 0))))
            done.wait(1.0)

    sampler = threading.Thread(target=sample, daemon=True)
    start = time.time()
    sampler.start()
    with ThreadPoolExecutor(WRITER_THREADS) as pool:
        list(pool.map(write, chunks))
    # A flagged sentinel written after everything else: the stream is ordered (one shard on
    # DynamoDB Local), so its copy appears only once every record before it was handled.
    writes_done = time.time()
    ddb.put_item(TableName=SCORE, Item=item(run, KEEPUP_RECORDS, True, writes_done))
    total = KEEPUP_RECORDS + 1
    expected = KEEPUP_RECORDS // 10 + 1
    wait_for(
        lambda: int(runner.latest().get("records_seen", 0)) - seen_before >= total,
        600,
        "the runner to see every record",
    )
    wait_for(lambda: len(scan(ddb, run)) >= expected, 120, "every copy")
    done.set()
    sampler.join()
    items = scan(ddb, run)
    sentinel = next(i for i in items if i["sort_key"]["S"] == f"{KEEPUP_RECORDS:06d}")
    drained = ts(sentinel["flagged_at"]["S"])
    windows: dict[int, list[tuple[float, float]]] = {}
    for i in items:
        if i is sentinel:
            continue
        created, flagged = ts(i["created_at"]["S"]), ts(i["flagged_at"]["S"])
        windows.setdefault(int((created - start) // WINDOW_S), []).append(
            (flagged - created, flagged - acked[i["sort_key"]["S"]])
        )
    return {
        "records": total,
        "flagged": len(items),
        "expected_flagged": expected,
        "write_s": writes_done - start,
        "write_rate": KEEPUP_RECORDS / (writes_done - start),
        "drain_after_writes_s": drained - writes_done,
        "total_s": drained - start,
        "process_rate": total / (drained - start),
        "timeline": timeline,
        "windows": {k: windows[k] for k in sorted(windows)},
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="flagger-bench-") as tmp:
        data = Path(tmp)
        with dynamodb_local_with_tables(SCORE, RETRAIN, data_dir=data / "ddb") as server:
            ddb = local_client(server.endpoint_url)
            env = dict(os.environ)
            env.update(
                {
                    "AWS_ENDPOINT_URL": server.endpoint_url,
                    "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_ACCESS_KEY_ID": "local",
                    "AWS_SECRET_ACCESS_KEY": "local",
                    "IRIS_SCORE_TABLE": SCORE,
                    "IRIS_RETRAIN_TABLE": RETRAIN,
                    "IRIS_DATA_DIR": str(data / "var"),
                    "IRIS_ESM_METRICS_INTERVAL": "0.5",
                    "IRIS_ESM_DISCOVERY_INTERVAL": "0.5",
                }
            )
            runner = RunnerProcess(env)
            runner.start()
            try:
                wait_for(lambda: bool(runner.metrics), 60, "the runner's first metrics")
                lat = latency_phase(ddb)
                wait_for(
                    lambda: int(runner.latest().get("records_seen", 0)) >= LATENCY_RECORDS,
                    60,
                    "the runner",
                )
                # Before the 10k run: DynamoDB Local slows down as stream data accumulates, and
                # the two handlers should meet the same, fresh-ish server.
                compare = compare_handlers(env, ddb)
                keep = keepup_phase(ddb, runner, int(runner.latest().get("records_seen", 0)))
                final = runner.latest()
            finally:
                runner.stop()
            from bench.flagger_unreadable import report, run_both

            unreadable = run_both(env, ddb)
    from bench import flagger_writes

    writes = flagger_writes.run()
    report_flagger(lat, keep, final, compare)
    report(unreadable)
    flagger_writes.report(writes)


if __name__ == "__main__":
    main()
