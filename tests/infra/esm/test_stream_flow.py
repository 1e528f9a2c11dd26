"""The local event source mapping against a real DynamoDB Streams endpoint (DynamoDB Local)."""

from __future__ import annotations

import fcntl
import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

import pytest
from flagger.config import FlaggerConfig
from flagger.handler import Flagger
from infra.esm import EsmRunner, RunnerLocked

from tests.support.waits import wait_for

pytestmark = pytest.mark.integration

RUN = "20261125T031509123Z-7f3a"


def test_retrain_table_holds_exactly_the_flagged_records(esm_tables, make_items, tmp_path):
    items, expected = make_items(RUN, 150)
    esm_tables.put(items)
    esm_tables.wait_streamed()
    runner = EsmRunner(esm_tables.settings(tmp_path, esm_batch_size=40))
    snapshot = runner.run_until_idle(timeout=120)
    keys = esm_tables.retrain_keys()
    assert Counter(keys) == Counter(expected)  # none missing, none extra, none twice
    assert snapshot.records_seen == 150
    assert snapshot.records_flagged == len(expected)
    assert snapshot.records_failed == 0
    assert not (tmp_path / "esm" / "failures.jsonl").exists()
    by_key = {(i["partition_key"]["S"], i["sort_key"]["S"]): i for i in esm_tables.retrain_items()}
    low = by_key[(RUN, "000005")]  # row 5: low confidence only
    assert [r["S"] for r in low["reasons"]["L"]] == ["low_confidence"]
    assert low["Features"] == items[5]["Features"]
    assert low["model_id"] == {"S": "0"}


def test_checkpoint_resumes_after_the_last_batch(esm_tables, make_items, tmp_path):
    first, expected_first = make_items(RUN, 40)
    esm_tables.put(first)
    esm_tables.wait_streamed()
    EsmRunner(esm_tables.settings(tmp_path)).run_until_idle(timeout=120)
    second, expected_second = make_items(RUN, 30, start=40)
    esm_tables.put(second)
    esm_tables.wait_streamed()
    snapshot = EsmRunner(esm_tables.settings(tmp_path)).run_until_idle(timeout=120)
    assert snapshot.records_seen == 30  # started after the checkpoint, not from TRIM_HORIZON
    assert Counter(esm_tables.retrain_keys()) == Counter(expected_first | expected_second)


def test_sigkill_mid_stream_then_restart_is_still_exact(esm_tables, make_items, tmp_path):
    before, expected_before = make_items(RUN, 300)
    during, expected_during = make_items(RUN, 300, start=300)
    expected = expected_before | expected_during
    esm_tables.put(before)
    env = esm_tables.env(tmp_path, IRIS_ESM_BATCH_SIZE="5")
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.esm"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        checkpoint = tmp_path / "esm" / "checkpoints.json"
        wait_for(checkpoint.exists, 60, "the first checkpoint", interval=0.05)
        esm_tables.put(during[:100])  # the runner is busy with the stream while we write
        wait_for(lambda: len(esm_tables.retrain_keys()) >= 20, 60, "20 copies", interval=0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        flagged_at_kill = len(esm_tables.retrain_keys())
        esm_tables.put(during[100:])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert flagged_at_kill < len(expected)  # it really was killed mid-stream
    esm_tables.wait_streamed()
    snapshot = EsmRunner(esm_tables.settings(tmp_path)).run_until_idle(timeout=180)
    assert snapshot.records_seen < 600  # resumed from the checkpoint, not from the start
    assert Counter(esm_tables.retrain_keys()) == Counter(expected)


def test_sigterm_stops_cleanly(esm_tables, make_items, tmp_path):
    items, expected = make_items(RUN, 20)
    esm_tables.put(items)
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.esm"],
        env=esm_tables.env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(
            lambda: Counter(esm_tables.retrain_keys()) == Counter(expected),
            60,
            "exactly the expected copies",
            interval=0.05,
        )
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    messages = [json.loads(line)["message"] for line in out.splitlines() if line.startswith("{")]
    assert "event source mapping stopped" in messages


class RefusingWrites:
    """The real client, except that every write of one row fails (as a denied write would)."""

    def __init__(self, inner: Any, sort_key: str) -> None:
        self.inner = inner
        self.sort_key = sort_key

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> Any:
        if any(t["Put"]["Item"]["sort_key"]["S"] == self.sort_key for t in TransactItems):
            raise RuntimeError("write refused")
        return self.inner.transact_write_items(TransactItems=TransactItems)

    def update_item(self, **kwargs: Any) -> Any:
        if kwargs["Key"]["sort_key"]["S"] == self.sort_key:
            raise RuntimeError("write refused")
        return self.inner.update_item(**kwargs)


def test_record_whose_write_keeps_failing_goes_to_the_failure_file_after_retries(
    esm_tables, make_items, make_score_item, tmp_path
):
    items, expected = make_items(RUN, 60)
    items[17] = make_score_item(RUN, 17, "versicolor", "setosa", "0.5")  # flagged
    expected.discard((RUN, "000017"))  # never written
    esm_tables.put(items)
    esm_tables.wait_streamed()
    flagger = Flagger(
        FlaggerConfig(retrain_table=esm_tables.retrain), RefusingWrites(esm_tables.ddb, "000017")
    )
    runner = EsmRunner(esm_tables.settings(tmp_path, esm_max_retries=2), flagger.handle)
    snapshot = runner.run_until_idle(timeout=120)
    assert Counter(esm_tables.retrain_keys()) == Counter(expected)
    failures = runner.destination.read_all()
    assert [f["keys"] for f in failures] == [{"partition_key": RUN, "sort_key": "000017"}]
    failure = failures[0]
    assert failure["attempts"] == 3  # the first invocation plus 2 retries
    assert failure["reason"] == "reported in batchItemFailures"
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["record"]["dynamodb"]["NewImage"]["Probability"] == {"S": "0.5"}
    assert failure["DDBStreamBatchInfo"]["streamArn"].endswith(failure["record"]["eventSourceARN"])
    assert snapshot.records_failed == 1
    assert snapshot.records_succeeded == 59


def test_handler_that_raises_is_bisected_down_to_the_bad_record(esm_tables, make_items, tmp_path):
    items, expected = make_items(RUN, 64)
    esm_tables.put(items)
    esm_tables.wait_streamed()
    flagger = Flagger(FlaggerConfig(retrain_table=esm_tables.retrain), esm_tables.ddb)
    batches: list[int] = []

    def crashing_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        batches.append(len(event["Records"]))
        rows = {r["dynamodb"]["Keys"]["sort_key"]["S"] for r in event["Records"]}
        if "000010" in rows:  # the "function" crashes whenever this record is in its batch
            raise RuntimeError("boom on row 10")
        return flagger.handle(event, context)

    runner = EsmRunner(esm_tables.settings(tmp_path, esm_max_retries=1), crashing_handler)
    snapshot = runner.run_until_idle(timeout=120)
    assert Counter(esm_tables.retrain_keys()) == Counter(expected - {(RUN, "000010")})
    failures = runner.destination.read_all()
    assert [f["keys"]["sort_key"] for f in failures] == ["000010"]
    assert failures[0]["reason"].startswith("function error: RuntimeError: boom on row 10")
    assert failures[0]["responseContext"]["functionError"] == "Unhandled"
    assert 1 in batches and max(batches) > 1  # it really did split the batch
    assert snapshot.function_errors >= 2
    assert snapshot.records_failed == 1


def test_runner_waits_for_the_retrain_table_instead_of_failing_records(
    esm_tables, make_items, tmp_path
):
    esm_tables.ddb.delete_table(TableName=esm_tables.retrain)
    esm_tables.ddb.get_waiter("table_not_exists").wait(
        TableName=esm_tables.retrain, WaiterConfig={"Delay": 1}
    )
    items, expected = make_items(RUN, 30)
    esm_tables.put(items)
    runner = EsmRunner(esm_tables.settings(tmp_path))
    thread = threading.Thread(target=runner.run_forever)
    thread.start()
    try:
        time.sleep(1.0)  # several discovery rounds with no retrain table
        assert runner.snapshot().records_seen == 0
        esm_tables.create_retrain_table()
        wait_for(
            lambda: Counter(esm_tables.retrain_keys()) == Counter(expected),
            60,
            "exactly the expected copies",
            interval=0.05,
        )
    finally:
        runner.stop()
        thread.join(timeout=30)
    assert runner.snapshot().records_failed == 0
    assert runner.destination.read_all() == []


def test_starting_position_latest_skips_what_is_there_once(esm_tables, make_items, tmp_path):
    old, _ = make_items(RUN, 30)
    esm_tables.put(old)
    esm_tables.wait_streamed()  # "what is there" when the mapping starts
    settings = esm_tables.settings(tmp_path, esm_starting_position="LATEST")
    first = EsmRunner(settings).run_until_idle(timeout=120)
    assert first.records_seen == 0
    assert esm_tables.retrain_keys() == []
    new, expected_new = make_items(RUN, 30, start=30)
    esm_tables.put(new)
    esm_tables.wait_streamed()
    # A restart keeps its position: LATEST applies only to a stream never checkpointed.
    second = EsmRunner(settings).run_until_idle(timeout=120)
    assert second.records_seen == 30
    assert Counter(esm_tables.retrain_keys()) == Counter(expected_new)


def test_replay_sends_fixed_failures_through_the_function_again(esm_tables, make_items, tmp_path):
    items, expected = make_items(RUN, 24)
    items[11] = items[11] | {"Probability": {"S": "abc"}}  # unreadable: copied, never failed
    expected.add((RUN, "000011"))
    esm_tables.put(items)
    esm_tables.wait_streamed()
    flagger = Flagger(FlaggerConfig(retrain_table=esm_tables.retrain), esm_tables.ddb)

    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if any(r["dynamodb"]["Keys"]["sort_key"]["S"] == "000010" for r in event["Records"]):
            raise RuntimeError("bug, fixed later")
        return flagger.handle(event, context)

    settings = esm_tables.settings(tmp_path, esm_max_retries=0)
    EsmRunner(settings, broken).run_until_idle(timeout=120)
    failures_file = tmp_path / "esm" / "failures.jsonl"
    assert (RUN, "000010") in expected
    assert (RUN, "000010") not in esm_tables.retrain_keys()
    result = subprocess.run(
        [sys.executable, "-m", "infra.esm", "replay"],
        env=esm_tables.env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"replayed": 1, "succeeded": 1, "still_failing": 0, "not_replayable": 0}
    assert Counter(esm_tables.retrain_keys()) == Counter(expected)
    assert failures_file.read_text() == ""


def test_runner_invokes_the_deployed_entry_point_by_handler_name_with_its_environment(
    esm_tables, make_items, tmp_path, aws_env, monkeypatch
):
    """The runner loads ``lambda_handler`` by its handler string and gives it the environment
    provisioning gives the deployed function, from the same settings (a stale variable in the
    runner's process does not win)."""
    from flagger import handler as handler_module

    monkeypatch.setenv("CONFIDENCE_THRESHOLD", "0.99")
    handler_module.set_client(None)
    items, _ = make_items(RUN, 40)
    esm_tables.put(items)
    esm_tables.wait_streamed()
    settings = esm_tables.settings(
        tmp_path, lambda_handler="flagger.handler.lambda_handler", flag_threshold=0.5
    )
    try:
        runner = EsmRunner(settings)
        runner.run_until_idle(timeout=120)
    finally:
        handler_module.set_client(None)
    assert runner.handler is handler_module.lambda_handler
    # With a 0.5 threshold only the misclassified rows (row % 7 == 3) qualify.
    expected = {(RUN, f"{row:06d}") for row in range(40) if row % 7 == 3}
    assert Counter(esm_tables.retrain_keys()) == Counter(expected)


def _is_locked(path) -> bool:
    if not path.exists():
        return False
    with open(path) as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False


def test_a_second_runner_on_the_same_data_dir_refuses_to_start(esm_tables, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.esm"],
        env=esm_tables.env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: _is_locked(tmp_path / "esm" / "runner.lock"), 60, "the lock", interval=0.05
        )
        with pytest.raises(RunnerLocked):
            EsmRunner(esm_tables.settings(tmp_path)).run_until_idle(timeout=30)
        second = subprocess.run(
            [sys.executable, "-m", "infra.esm"],
            env=esm_tables.env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 3
        assert "another event source mapping runner" in second.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)
