"""The endpoint goes down mid-run: records wait durably and arrive exactly once when it returns.

This test needs an endpoint it can kill, so it always starts its own DynamoDB Local (with a data
directory, on a free port) whatever endpoint the rest of the suite uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from infra.aws import local_client
from infra.local.dynamodb_local import DynamoDBLocal, free_port
from model_api.runs.store import new_run_id
from model_api.scorelog.batch import Backoff
from model_api.scorelog.items import sort_key
from model_api.scorelog.service import ScoreLog

from tests.support.scorelog_kit import Run, count_items, create_score_table, scan_keys, scored_rows

pytestmark = pytest.mark.integration

TABLE = "IrisExtended"


async def wait_until(predicate: Callable[[], bool], limit: float) -> bool:
    """Poll until ``predicate`` holds (a deadline against hanging, not a speed assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def test_endpoint_down_mid_run_every_record_arrives_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    port, data_dir = free_port(), tmp_path / "dynamodb"
    server = DynamoDBLocal(port=port, data_dir=data_dir).start()
    try:
        ddb = local_client(server.endpoint_url)
        create_score_table(ddb, TABLE, local_client(server.endpoint_url, service="dynamodbstreams"))
        log = ScoreLog(
            tmp_path / "var",
            TABLE,
            endpoint_url=server.endpoint_url,
            concurrency=8,
            backoff=Backoff(base=0.05, cap=0.5),
        )
        await log.start()
        try:
            first, second = Run(run_id=new_run_id()), Run(run_id=new_run_id())
            await log.submit(first, scored_rows(3000))
            assert await wait_until(lambda: log.status(first.run_id)["written"] >= 100, 60)

            server.process.kill()  # no goodbye: the endpoint just vanishes
            server.process.wait(timeout=10)
            assert await wait_until(lambda: log.status(first.run_id)["state"] == "waiting", 30)
            await log.submit(second, scored_rows(200))  # a run tested while the endpoint is down
            await asyncio.sleep(4)
            down = log.status(first.run_id)
            assert down["state"] == "waiting"
            assert down["pending"] > 0 and down["failed"] == 0
            assert log.status(second.run_id)["written"] == 0

            server = DynamoDBLocal(port=port, data_dir=data_dir).start()
            assert await log.wait_idle(timeout=180)
            assert log.status(first.run_id) == {
                "total": 3000,
                "written": 3000,
                "pending": 0,
                "failed": 0,
                "state": "complete",
            }
            assert log.status(second.run_id)["state"] == "complete"
        finally:
            await log.stop()

        expected = {(first.run_id, sort_key(i)) for i in range(3000)}
        expected |= {(second.run_id, sort_key(i)) for i in range(200)}
        keys = scan_keys(ddb, TABLE)
        assert len(keys) == len(expected)
        assert set(keys) == expected
        assert count_items(ddb, TABLE) == 3200
    finally:
        server.stop()
