"""The deployment zip as AWS runs it: Python 3.12, boto3 only, real stream events.

The zip ``iris-provision`` deploys is unpacked into a fresh folder and run by a Python 3.12 venv
that holds nothing but boto3 (:mod:`infra.esm.packaged`), on stream records read from the test
endpoint (DynamoDB Local by default, LocalStack in ``make test-localstack``).
"""

from __future__ import annotations

import subprocess
import uuid
from collections import Counter

import pytest
from infra.esm import EsmRunner
from infra.esm.events import to_lambda_record
from infra.esm.invoker import LocalContext
from infra.esm.packaged import PackagedHandler

pytestmark = pytest.mark.integration

RUN = "20261201T220000000Z-pack"


def test_the_zip_runs_alone_under_python_312_with_boto3_only(esm_tables, tmp_path):
    handler = PackagedHandler(esm_tables.settings(tmp_path))
    try:
        probe = subprocess.run(
            [
                str(handler.python),
                "-I",
                "-c",
                "import sys, importlib.util as u; print(sys.version_info[:2]); "
                "print([m for m in ('boto3', 'pydantic', 'infra', 'flagger') if u.find_spec(m)])",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        assert probe.stdout.split("\n")[:2] == ["(3, 12)", "['boto3']"]
        files = sorted(
            p.relative_to(handler.task_root).as_posix() for p in handler.task_root.rglob("*.py")
        )
        assert files == sorted(handler.package.files)
    finally:
        handler.close()


def test_runner_in_packaged_mode_copies_exactly_the_problem_records(
    esm_tables, make_items, tmp_path
):
    items, expected = make_items(RUN, 60)
    esm_tables.put(items)
    esm_tables.wait_streamed()
    runner = EsmRunner(esm_tables.settings(tmp_path, esm_batch_size=25, esm_packaged=True))
    try:
        snapshot = runner.run_until_idle(timeout=180)
    finally:
        runner.handler.close()  # type: ignore[attr-defined]
    assert Counter(esm_tables.retrain_keys()) == Counter(expected)
    assert snapshot.records_seen == 60 and snapshot.records_failed == 0


def test_packaged_function_reports_failed_writes_as_batch_item_failures(
    esm_tables, make_items, tmp_path, read_stream
):
    items, expected = make_items(RUN, 12)
    esm_tables.put(items)
    arn = esm_tables.ddb.describe_table(TableName=esm_tables.score)["Table"]["LatestStreamArn"]
    records = [to_lambda_record(r, arn) for r in read_stream(esm_tables.score, 12)]
    assert len(records) == 12
    missing = f"NoSuchTable-{uuid.uuid4().hex[:8]}"
    handler = PackagedHandler(esm_tables.settings(tmp_path, retrain_table=missing))
    try:
        result = handler({"Records": records}, LocalContext("iris-retrain-flagger", "req-1"))
    finally:
        handler.close()
    failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    flagged_seq = [
        r["dynamodb"]["SequenceNumber"]
        for r in records
        if (r["dynamodb"]["Keys"]["partition_key"]["S"], r["dynamodb"]["Keys"]["sort_key"]["S"])
        in expected
    ]
    assert failed and set(failed) == set(flagged_seq)
    assert esm_tables.retrain_keys() == []
