"""A batch test accepted by one replica that is SIGKILLed right after the response: the other
replica finishes it, and every one of its 10,000 records is in the score table exactly once."""

from __future__ import annotations

import time
from typing import Any

import boto3
import httpx
import pytest

from tests.support.bundled import cycled_csv as csv_of
from tests.support.waits import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROWS = 10_000


def train(api: httpx.Client) -> int:
    model = api.post("/api/models", json={"dataset_id": 0, "epochs": 2, "seed": 3})
    assert model.status_code == 202, model.text
    ident = model.json()["id"]
    done = wait_for(
        lambda: (
            (m := api.get(f"/api/models/{ident}").json())["status"] in ("ready", "failed") and m
        ),
        120,
        "training",
    )
    assert done["status"] == "ready", done
    return int(ident)


def run_keys(ddb: Any, table: str, run_id: str) -> list[str]:
    keys: list[str] = []
    for page in ddb.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="partition_key = :p",
        ExpressionAttributeValues={":p": {"S": run_id}},
        ProjectionExpression="sort_key",
        ConsistentRead=True,
    ):
        keys += [i["sort_key"]["S"] for i in page["Items"]]
    return keys


def test_a_killed_replicas_batch_test_is_finished_by_the_other(
    replicas: list[Any], aws_endpoint: Any, provisioned_tables: dict[str, str]
) -> None:
    a, b = replicas
    with a.client() as api:
        upload = api.post("/api/datasets", files={"file": ("big.csv", csv_of(ROWS), "text/csv")})
        assert upload.status_code == 201, upload.text
        model_id = train(api)
        response = api.post(
            f"/api/models/{model_id}/tests", json={"dataset_id": upload.json()["id"]}
        )
        a.kill()  # right after the response: a's writer is cut off mid-run
    assert response.status_code == 201, response.text
    run_id = response.json()["run_id"]

    ddb = boto3.client("dynamodb", **aws_endpoint.client_kwargs())
    table = provisioned_tables["score"]
    wait_for(lambda: len(run_keys(ddb, table, run_id)) >= ROWS, 150, "every record", interval=0.5)
    registry = provisioned_tables["registry"]
    header = {"pk": {"S": "outbox"}, "sk": {"S": run_id}}
    wait_for(
        lambda: "Item" not in ddb.get_item(TableName=registry, Key=header, ConsistentRead=True),
        30,
        "b to drop the finished run's stage",
    )
    time.sleep(2)  # anything written twice or late would show now
    keys = run_keys(ddb, table, run_id)
    assert len(keys) == ROWS
    assert sorted(keys) == [f"{i:06d}" for i in range(ROWS)]
    assert f"adopted run {run_id}" in b.log.read_text()


def test_a_runs_final_logging_is_answered_by_every_replica(replicas: list[Any]) -> None:
    """The replica that wrote a run records its final counts on the run's item: the other
    one, whose outbox never held the run, answers them too (not the counts at submission)."""
    a, b = replicas
    with a.client() as api_a, b.client() as api_b:
        model_id = train(api_a)
        response = api_a.post(f"/api/models/{model_id}/tests", json={"dataset_id": 0})
        assert response.status_code == 201, response.text
        run_id = response.json()["run_id"]
        done = wait_for(
            lambda: (
                (s := api_a.get(f"/api/runs/{run_id}").json()["logging"])["state"] == "complete"
                and s
            ),
            60,
            "a to write the run",
        )
        seen = wait_for(
            lambda: (
                (s := api_b.get(f"/api/runs/{run_id}").json()["logging"])["state"] != "writing"
                and s
            ),
            30,
            "b to answer the run's final logging",
        )
        assert seen == done
        assert seen["written"] == seen["total"] == 1200
        listed = api_b.get("/api/runs", params={"model_id": model_id}).json()["items"]
        assert [r["logging"] for r in listed if r["run_id"] == run_id] == [done]
