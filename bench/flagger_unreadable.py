"""Flagger scenario: 1,200 unreadable records, then a normal flipped-label run.

Once, such a run held the stream for over an hour (each record reported, retried with back-off,
bisected). Now each is copied at once as ``unreadable``; this measures how soon the normal run's
candidates arrive after its last write (target p99 ≤ 2 s) and prints the runner's retry and
bisection counters. The same prefix of 1,200 *readable* (flagged) records is measured alongside,
on fresh tables (alone: on a fresh server), as the usual latency on this machine at this moment
(it moves with load).
Called from ``bench.flagger_bench`` (``python -m bench flagger``) or alone:
``python -m bench.flagger_unreadable``.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench._common import provision_tables
from bench.flagger_kit import WRITER_THREADS, RunnerProcess, item, pct, scan, ts
from tests.support.waits import wait_for

UNREADABLE_RECORDS = 1200
NORMAL_RECORDS = 300  # every 3rd misclassified: 100 candidates
BREAKAGES = ({"S": "abc"}, {"S": "NaN"}, {"S": "inf"}, {"S": "1.5"})


def _write(ddb: Any, table: str, items: list[dict[str, Any]]) -> None:
    def chunk_write(chunk: list[dict[str, Any]]) -> None:
        request = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
        while request:
            request = ddb.batch_write_item(RequestItems=request)["UnprocessedItems"]

    with ThreadPoolExecutor(WRITER_THREADS) as pool:
        list(pool.map(chunk_write, [items[i : i + 25] for i in range(0, len(items), 25)]))


def unreadable_phase(env: dict[str, str], ddb: Any, readable: bool = False) -> dict[str, Any]:
    """The scenario; with ``readable`` the 1,200 prefix records are flagged ones (baseline)."""
    name = "Readable" if readable else "Unreadable"
    score, retrain = f"Bench{name}", f"Bench{name}Retrain"
    provision_tables(env["AWS_ENDPOINT_URL"], score, retrain)
    run_env = env | {
        "IRIS_SCORE_TABLE": score,
        "IRIS_RETRAIN_TABLE": retrain,
        "IRIS_DATA_DIR": f"{env['IRIS_DATA_DIR']}-{name.lower()}",
    }
    runner = RunnerProcess(run_env)
    runner.start()
    load_before = os.getloadavg()[0]
    try:
        wait_for(lambda: bool(runner.metrics), 60, "the runner's first metrics")
        bad_run, good_run = "bench-unreadable", "bench-after-unreadable"
        bad = []
        for row in range(UNREADABLE_RECORDS):
            record = item(bad_run, row, readable, time.time())
            if not readable:
                record["Probability"] = BREAKAGES[row % len(BREAKAGES)]
            bad.append(record)
        _write(ddb, score, bad)
        now = time.time()
        good = [item(good_run, r, r % 3 == 0, now) for r in range(NORMAL_RECORDS)]
        _write(ddb, score, good)
        last_write = time.time()
        wanted = len([r for r in range(NORMAL_RECORDS) if r % 3 == 0])
        wait_for(lambda: len(scan(ddb, good_run, retrain)) >= wanted, 300, "the good copies")
        flagged = [ts(i["flagged_at"]["S"]) for i in scan(ddb, good_run, retrain)]
        # 0 = copied before the run's last write returned: the runner kept up with the writers
        after_last = [max(0.0, f - last_write) for f in flagged]
        after_first = [f - now for f in flagged]
        wait_for(
            lambda: len(scan(ddb, bad_run, retrain)) >= UNREADABLE_RECORDS, 300, "the bad copies"
        )
        wait_for(
            lambda: int(runner.latest().get("records_seen", 0)) >= len(bad) + len(good),
            60,
            "the runner",
        )
        time.sleep(1.0)  # one more metrics line after the last batch
        metrics = runner.latest()
    finally:
        runner.stop()
    return {
        "load": (load_before, os.getloadavg()[0]),
        "unreadable_copied": len(scan(ddb, bad_run, retrain)),
        "candidates": len(flagged),
        "write_s": last_write - now,
        "p99_after_first_write": pct(after_first, 99),
        "p50_after_last_write": pct(after_last, 50),
        "p99_after_last_write": pct(after_last, 99),
        "retries": metrics.get("retries"),
        "bisections": metrics.get("bisections"),
        "function_errors": metrics.get("function_errors"),
        "records_failed": metrics.get("records_failed"),
    }


def report(results: dict[str, dict[str, Any]]) -> None:
    print(
        f"\n{UNREADABLE_RECORDS:,} records, then a normal run of {NORMAL_RECORDS} "
        f"(target: its candidates p99 ≤ 2 s after the last write)"
    )
    print(
        f"{'prefix':<11} {'copied':>7} {'candidates':>10} {'write s':>7} {'p99 1st':>7} "
        f"{'p50 last':>8} {'p99 last':>8} "
        f"{'retries':>7} {'bisections':>10} {'fn errors':>9} {'given up':>8} {'load':>10}"
    )
    for prefix, r in results.items():
        print(
            f"{prefix:<11} {r['unreadable_copied']:>7} {r['candidates']:>10} "
            f"{r['write_s']:>7.2f} {r['p99_after_first_write']:>7.2f} "
            f"{r['p50_after_last_write']:>8.2f} {r['p99_after_last_write']:>8.2f} "
            f"{r['retries']!s:>7} {r['bisections']!s:>10} {r['function_errors']!s:>9} "
            f"{r['records_failed']!s:>8} {r['load'][0]:>4.1f}→{r['load'][1]:<4.1f}"
        )
    print(
        "seconds; write s: the normal run's writes (BatchWriteItem x 4 threads); p99 1st: its\n"
        "candidates' flagged_at after its first write; p50/p99 last: after its last write (0 = "
        "copied\nbefore the last write returned); load: 1-minute load average at the phase's "
        "start → end (2 cores)"
    )


def run_both(env: dict[str, str], ddb: Any) -> dict[str, dict[str, Any]]:
    """Unreadable prefix, then the readable baseline, on the same server."""
    return {
        "unreadable": unreadable_phase(env, ddb),
        "readable": unreadable_phase(env, ddb, readable=True),
    }


def main() -> None:
    """This scenario alone: ``python -m bench.flagger_unreadable``. Each phase gets its own
    DynamoDB Local (persisting, as ``make run``): its stream readers slow down as stream records
    pile up, so a phase run second on a shared server would be measured against a handicap."""
    import tempfile
    from pathlib import Path

    from infra.aws import local_client

    from bench._common import dynamodb_local_with_tables

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="flagger-unreadable-") as tmp:
        for name, readable in (("unreadable", False), ("readable", True)):
            data = Path(tmp) / name
            with dynamodb_local_with_tables("BenchU0", None, data_dir=data / "ddb") as server:
                env = dict(os.environ) | {
                    "AWS_ENDPOINT_URL": server.endpoint_url,
                    "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_ACCESS_KEY_ID": "local",
                    "AWS_SECRET_ACCESS_KEY": "local",
                    "IRIS_DATA_DIR": str(data / "var"),
                    "IRIS_ESM_METRICS_INTERVAL": "0.5",
                    "IRIS_ESM_DISCOVERY_INTERVAL": "0.5",
                }
                results[name] = unreadable_phase(env, local_client(server.endpoint_url), readable)
    report(results)


if __name__ == "__main__":
    main()
