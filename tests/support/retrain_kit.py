"""Helpers for the retrain-loop tests: model_api on the provisioned tables, the flagger on a run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from fastapi.testclient import TestClient
from flagger.config import FlaggerConfig
from flagger.handler import Flagger
from model_api.app import create_app

from tests.support import model_api_kit
from tests.support.stream_kit import stream_record


@contextlib.contextmanager
def api_on_tables(
    aws_env: Any, tables: dict[str, str], data_dir: Path
) -> Iterator[tuple[TestClient, Any]]:
    """The real model_api on the provisioned tables, and a DynamoDB client."""
    settings = model_api_kit.settings_on(tables, data_dir)
    ddb = boto3.client("dynamodb", **aws_env.client_kwargs())
    with TestClient(create_app(settings)) as api:
        yield api, ddb


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
    return model_api_kit.all_pages(client, "/api/retrain", {**params, "limit": 1000})
