"""The outbox keeps every record until it is marked written, atomically per run."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_api.runs.store import new_run_id
from model_api.scorelog.items import RecordError
from model_api.scorelog.outbox import Outbox, RunAlreadySubmitted
from model_api.scorelog.service import ScoreLog

from tests.support.scorelog_kit import Run, scored_rows


def test_counts_follow_written_and_failed_marks(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.add_run("a", [(i, f'{{"n": {i}}}') for i in range(10)])
    box.add_run("b", [(0, "{}")])
    pending = box.fetch_pending(0, 100)
    assert [p.run_id for p in pending] == ["a"] * 10 + ["b"]
    ids = [p.id for p in pending]
    assert box.mark_written(ids[:4]) == {"a": 4}
    assert box.mark_written(ids[:4]) == {}  # marking twice counts once
    assert box.mark_failed([(ids[4], "ValidationException: too big")]) == {"a": 1}
    counts = box.counts("a")
    assert (counts.total, counts.written, counts.failed, counts.pending) == (10, 4, 1, 5)
    assert box.failures("a") == [{"position": 4, "error": "ValidationException: too big"}]
    assert [p.id for p in box.fetch_pending(0, 100)] == ids[5:]
    assert [p.id for p in box.fetch_pending(ids[7], 100)] == ids[8:]
    assert box.pending_total() == 6
    assert box.counts("nope") is None
    box.close()


def test_records_survive_reopening(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.add_run("a", [(i, "{}") for i in range(3)])
    box.close()
    again = Outbox(tmp_path)
    assert again.pending_total() == 3
    assert again.counts("a").pending == 3
    again.close()


def test_a_run_is_stored_whole_or_not_at_all(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    box.add_run("a", [(0, "{}")])
    with pytest.raises(RunAlreadySubmitted):
        box.add_run("a", [(1, "{}")])
    assert box.counts("a").total == 1
    assert box.pending_total() == 1
    box.close()


async def test_submit_refuses_bad_rows_and_stores_nothing(tmp_path: Path) -> None:
    log = ScoreLog(tmp_path, "IrisExtended")  # never started: no endpoint needed
    rows = scored_rows(5)
    rows[3].predicted = "daisy"
    run = Run(run_id=new_run_id())
    with pytest.raises(RecordError):
        await log.submit(run, rows)
    assert log.status(run.run_id)["state"] == "unknown"
    good = Run(run_id=new_run_id())
    status = await log.submit(good, scored_rows(5))
    assert status == {"total": 5, "written": 0, "pending": 5, "failed": 0, "state": "queued"}
    assert not await log.wait_idle(good.run_id, timeout=0.2)
    await log.stop()
