"""The outbox's bookkeeping stays true when SQLite fails (a full disk), and its size is bounded.

The failures are SQLite's own: either a real outbox whose update raises SQLite's "database or
disk is full" error the first few times, or a real outbox capped with ``max_page_count`` so that
SQLite itself runs out of room.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from model_api.scorelog.outbox import Outbox
from model_api.scorelog.service import RunTooLarge, ScoreLog, ScoreLogBusy, ScoreLogFull

from tests.support.scorelog_kit import Run, count_items, running, scan_keys, score_log, scored_rows

pytestmark = pytest.mark.integration


def failing_first(times: int, fn: Callable[..., Any], error: Exception) -> Callable[..., Any]:
    """``fn``, except that its first ``times`` calls raise ``error`` (before touching SQLite)."""
    calls = {"failed": 0, "ok": 0}

    def wrapper(*args: Any) -> Any:
        if calls["failed"] < times:
            calls["failed"] += 1
            raise error
        calls["ok"] += 1
        return fn(*args)

    wrapper.calls = calls  # type: ignore[attr-defined]
    return wrapper


def outbox_of(log: ScoreLog) -> Outbox:
    return log._outbox  # the real SQLite outbox the log writes through


@pytest.mark.parametrize("method", ["mark_written", "mark_failed"])
async def test_a_failed_outbox_update_is_retried_and_the_run_completes(
    tmp_path: Path, tables: dict[str, str], aws_env: Any, ddb: Any, method: str
) -> None:
    log = score_log(tmp_path, tables, aws_env)
    outbox = outbox_of(log)
    full = sqlite3.OperationalError("database or disk is full")
    flaky = failing_first(3, getattr(outbox, method), full)
    setattr(outbox, method, flaky)
    run = Run(run_id="20261201T000000000Z-f00d")
    rows = scored_rows(625)
    if method == "mark_failed":  # one item DynamoDB rejects for good, so mark_failed is needed
        rows[7].row["elevation"] = "x" * 500_000  # larger than DynamoDB's 400 KB item limit
    async with running(log):
        await log.submit(run, rows)
        assert await log.wait_idle(run.run_id, timeout=120), log.status(run.run_id)
        status = log.status(run.run_id)
    assert flaky.calls["failed"] == 3 and flaky.calls["ok"] >= 1  # the fault did happen
    bad = 1 if method == "mark_failed" else 0
    expected_state = "failed" if bad else "complete"
    assert status == {
        "total": 625,
        "written": 625 - bad,
        "pending": 0,
        "failed": bad,
        "state": expected_state,
    }
    keys = scan_keys(ddb, tables["score"])
    assert len(keys) == len(set(keys)) == 625 - bad  # every record exactly once
    assert {pk for pk, _ in keys} == {run.run_id}
    reopened = ScoreLog(tmp_path / "var", tables["score"])  # the durable counts agree
    assert reopened.status(run.run_id) == {**status, "state": expected_state}


async def test_a_full_disk_on_submit_stores_nothing(
    tmp_path: Path, tables: dict[str, str], aws_env: Any, ddb: Any
) -> None:
    log = score_log(tmp_path, tables, aws_env)
    outbox = outbox_of(log)
    await log.submit(Run(run_id="20261201T000000000Z-0001"), scored_rows(5))
    # SQLite's own limit: the file may not grow by a single page any more.
    (pages,) = outbox._db.execute("PRAGMA page_count").fetchone()
    outbox._db.execute(f"PRAGMA max_page_count = {pages}")
    run = Run(run_id="20261201T000000000Z-0002")
    with pytest.raises(ScoreLogFull, match="disk is full"):
        await log.submit(run, scored_rows(400))
    assert log.status(run.run_id)["state"] == "unknown"  # no half run
    assert outbox.pending_total() == 5

    enospc = OSError(errno.ENOSPC, "No space left on device")
    outbox.add_run = failing_first(1, outbox.add_run, enospc)  # type: ignore[method-assign]
    with pytest.raises(ScoreLogFull, match="No space left"):
        await log.submit(run, scored_rows(3))
    outbox._db.execute("PRAGMA max_page_count = 1073741823")  # room again: the same run goes in
    await log.submit(run, scored_rows(400))
    async with running(log):
        assert await log.wait_idle(timeout=120)
        assert log.status(run.run_id)["state"] == "complete"
    assert count_items(ddb, tables["score"]) == 405


async def test_pending_records_are_bounded(
    tmp_path: Path, tables: dict[str, str], aws_env: Any, ddb: Any
) -> None:
    log = score_log(tmp_path, tables, aws_env, max_pending=100)
    first = Run(run_id="20261201T000000000Z-0003")
    second = Run(run_id="20261201T000000000Z-0004")
    await log.submit(first, scored_rows(60))  # the writer is not started: they stay pending
    with pytest.raises(ScoreLogBusy) as busy:
        await log.submit(second, scored_rows(41))
    assert (busy.value.pending, busy.value.incoming, busy.value.limit) == (60, 41, 100)
    assert busy.value.retry_after >= 1
    assert log.status(second.run_id)["state"] == "unknown"  # nothing of it stored
    with pytest.raises(RunTooLarge):
        await log.submit(second, scored_rows(101))
    await log.submit(second, scored_rows(40))  # exactly at the bound is accepted
    async with running(log):
        assert await log.wait_idle(timeout=120)
        third = Run(run_id="20261201T000000000Z-0005")
        await log.submit(third, scored_rows(100))  # room again once written
        assert await log.wait_idle(timeout=120)
    assert count_items(ddb, tables["score"]) == 200
