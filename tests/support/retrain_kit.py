"""Helpers for the retrain-loop tests: model_api on the provisioned tables, the flagger on a run."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from fastapi.testclient import TestClient
from flagger.config import FlaggerConfig
from flagger.handler import Flagger
from model_api.app import create_app
from model_api.config import ApiSettings

from tests.support.stream_kit import stream_record


@contextlib.contextmanager
def api_on_tables(
    aws_env: Any, tables: dict[str, str], data_dir: Path
) -> Iterator[tuple[TestClient, Any]]:
    """The real model_api on the provisioned tables, and a DynamoDB client."""
    settings = ApiSettings(
        data_dir=data_dir,
        score_table=tables["score"],
        retrain_table=tables["retrain"],
        registry_table=tables["registry"],
    )
    ddb = boto3.client("dynamodb", **aws_env.client_kwargs())
    with TestClient(create_app(settings)) as api:
        yield api, ddb


def wait_logged(client: Any, run_id: str, deadline_s: float = 120.0) -> None:
    end = time.monotonic() + deadline_s
    while client.get(f"/api/runs/{run_id}").json()["logging"]["pending"]:
        if time.monotonic() > end:
            raise AssertionError(f"run {run_id} still logging after {deadline_s}s")
        time.sleep(0.2)


def flag_run(ddb: Any, score_table: str, retrain_table: str, run_id: str) -> int:
    """Feed the run's score items to the real flagger handler as one INSERT stream batch
    per page (what the event source mapping does); returns how many records it saw."""
    flagger = Flagger(FlaggerConfig(retrain_table=retrain_table, threshold=0.9), lambda: ddb)
    seen, start = 0, None
    while True:
        kwargs: dict[str, Any] = {
            "TableName": score_table,
            "KeyConditionExpression": "partition_key = :p",
            "ExpressionAttributeValues": {":p": {"S": run_id}},
            "Limit": 100,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = ddb.query(**kwargs)
        records = [stream_record(item, seen + i) for i, item in enumerate(page["Items"])]
        result = flagger.handle({"Records": records}, None)
        assert result == {"batchItemFailures": []}, result
        seen += len(records)
        start = page.get("LastEvaluatedKey")
        if not start:
            return seen


def all_candidates(client: Any, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/retrain", params=query)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items
