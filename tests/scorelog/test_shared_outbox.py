"""The shared stage of the outbox on a real DynamoDB API (DynamoDB Local by default): a run
accepted by one replica that then stops writing is finished by another, every record exactly as
built under its own key; a finished run leaves nothing staged; the registry down at submit time
costs nothing but the sharing (the run is durable locally and shared later)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from model_api.core.lease import Leases
from model_api.core.registry import Registry
from model_api.runs.store import new_run_id
from model_api.scorelog.items import build_items
from model_api.scorelog.outbox import RunAlreadySubmitted
from model_api.scorelog.service import ScoreLog
from model_api.scorelog.shared import HEADERS_PK, SharedOutbox, chunks_pk, lease_name

from tests.support.scorelog_kit import Run, scored_rows

pytestmark = pytest.mark.integration


def replica(
    path: Path, tables: dict[str, str], aws: Any, name: str, lease_s: float = 1.5, **kw: Any
) -> ScoreLog:
    registry = Registry.connect(kw.pop("registry_table", tables["registry"]), aws.url, aws.region)
    return ScoreLog(
        path,
        tables["score"],
        endpoint_url=aws.url,
        region=aws.region,
        shared=SharedOutbox(registry, Leases(registry, name, lease_s)),
        heartbeat_s=lease_s / 3,
        **kw,
    )


def run_items(ddb: Any, table: str, run_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in ddb.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="partition_key = :p",
        ExpressionAttributeValues={":p": {"S": run_id}},
        ConsistentRead=True,
    ):
        items += page["Items"]
    return items


def staged(registry: Registry, run_id: str) -> tuple[Any, list[str], Any]:
    return (
        registry.get(HEADERS_PK, run_id),
        registry.keys(chunks_pk(run_id)),
        registry.get("lease", lease_name(run_id)),
    )


NOTHING_STAGED: tuple[Any, list[str], Any] = (None, [], None)


async def stage_once_dropped(
    registry: Registry, run_id: str, interval: float
) -> tuple[Any, list[str], Any]:
    """The run's stage after polling (50 times) for it to be dropped, as the check sees it."""
    for _ in range(50):
        if staged(registry, run_id) == NOTHING_STAGED:
            break
        await asyncio.sleep(interval)
    return staged(registry, run_id)


async def test_a_run_whose_writer_stopped_is_finished_by_another_replica(
    tmp_path: Path, tables: dict[str, str], aws_env: Any, ddb: Any
) -> None:
    run = Run(run_id=new_run_id())
    rows = scored_rows(3_000)
    # Replica a accepts the run (staged before submit returns) but never writes: its writer is
    # not running, as if the process died right after the response.
    a = replica(tmp_path / "a", tables, aws_env, "replica-a")
    await a.submit(run, rows)
    registry = Registry.connect(tables["registry"], aws_env.url, aws_env.region)
    header, chunks, lease = staged(registry, run.run_id)
    assert header["total"] == 3_000 and len(chunks) == header["chunks"] >= 1
    assert lease["owner"] == "replica-a"
    assert run_items(ddb, tables["score"], run.run_id) == []

    b = replica(tmp_path / "b", tables, aws_env, "replica-b")
    await b.start()
    try:
        # a's lease expires (1.5 s), b adopts the run and writes it (slow on a loaded machine,
        # late in a session's DynamoDB Local: up to 3 min)
        deadline = asyncio.get_running_loop().time() + 180
        while b.status(run.run_id)["state"] != "complete":
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
        assert b.status(run.run_id)["written"] == 3_000, b.status(run.run_id)
        # b drops the stage at its next heartbeat
        assert await stage_once_dropped(registry, run.run_id, 0.2) == NOTHING_STAGED
    finally:
        await b.stop()
    expected = dict(build_items(run, rows))
    got = run_items(ddb, tables["score"], run.run_id)
    assert len(got) == 3_000
    assert sorted(int(i["sort_key"]["S"]) for i in got) == list(range(3_000))
    for item in got:
        assert item == expected[int(item["sort_key"]["S"])]


async def test_a_finished_run_leaves_nothing_staged(
    tmp_path: Path, tables: dict[str, str], aws_env: Any, ddb: Any
) -> None:
    log = replica(tmp_path / "a", tables, aws_env, "replica-a")
    await log.start()
    registry = Registry.connect(tables["registry"], aws_env.url, aws_env.region)
    run = Run(run_id=new_run_id())
    try:
        await log.submit(run, scored_rows(100))
        assert staged(registry, run.run_id)[0] is not None  # staged before submit returned
        assert await log.wait_idle(run.run_id, timeout=60)
        assert await stage_once_dropped(registry, run.run_id, 0.1) == NOTHING_STAGED
    finally:
        await log.stop()
    assert len(run_items(ddb, tables["score"], run.run_id)) == 100


async def test_a_run_id_staged_by_another_replica_is_refused_and_not_kept(
    tmp_path: Path, tables: dict[str, str], aws_env: Any
) -> None:
    run = Run(run_id=new_run_id())
    a = replica(tmp_path / "a", tables, aws_env, "replica-a", lease_s=30)
    b = replica(tmp_path / "b", tables, aws_env, "replica-b", lease_s=30)
    await a.submit(run, scored_rows(10))
    with pytest.raises(RunAlreadySubmitted):
        await b.submit(run, scored_rows(10))
    assert b.status(run.run_id)["state"] == "unknown"  # nothing kept on b
    assert a.status(run.run_id)["total"] == 10


async def test_registry_down_at_submit_keeps_the_run_locally_and_writes_it(
    tmp_path: Path, tables: dict[str, str], aws_env: Any, ddb: Any
) -> None:
    log = replica(
        tmp_path / "a", tables, aws_env, "replica-a", registry_table="NoSuchRegistry-shared"
    )
    await log.start()
    run = Run(run_id=new_run_id())
    try:
        status = await log.submit(run, scored_rows(50))
        assert status["total"] == 50
        assert await log.wait_idle(run.run_id, timeout=60)
    finally:
        await log.stop()
    assert len(run_items(ddb, tables["score"], run.run_id)) == 50
