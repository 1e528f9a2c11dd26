"""Fixtures for the local event source mapping: score + retrain tables on a real endpoint."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from infra.esm import EsmSettings
from infra.provision.tables import ensure_table

from tests.support.scorelog_kit import score_item


def mixed_items(run_id: str, count: int, start: int = 0) -> tuple[list[dict], set[tuple]]:
    """``count`` items: every 7th misclassified, every 11th low confidence, most fine.

    Returns the items and the keys the flagger must copy (computed from the rule, not the code).
    """
    items, expected = [], set()
    for row in range(start, start + count):
        misclassified = row % 7 == 3
        low = row % 11 == 5
        predicted = "versicolor" if misclassified else "setosa"
        probability = "0.61" if low else "0.997"
        items.append(score_item(run_id, row, predicted, "setosa", probability))
        if misclassified or low:
            expected.add((run_id, f"{row:06d}"))
    return items, expected


@dataclass
class EsmTables:
    """The two tables of one test, with helpers to write scores and read the retrain table."""

    ddb: Any
    score: str
    retrain: str
    endpoint: Any
    read_stream: Any
    written: int = 0  # items put so far: each is one INSERT record on the stream

    def put(self, items: list[dict]) -> None:
        for item in items:
            self.ddb.put_item(TableName=self.score, Item=item)
        self.written += len(items)

    def wait_streamed(self) -> None:
        """Wait until every item written so far is readable on the stream.

        DynamoDB Local makes a write readable at once; LocalStack's stream delivers it seconds
        later. Tests that then run the runner until the stream is drained wait for their records
        here, rather than the runner waiting out a quiet period (esm_idle_quiet_s) every time.
        """
        records = self.read_stream(self.score, self.written)
        assert len(records) == self.written, f"{len(records)} of {self.written} on the stream"

    def batch_put(self, items: list[dict], threads: int = 4) -> None:
        chunks = [items[i : i + 25] for i in range(0, len(items), 25)]

        def write(chunk: list[dict]) -> None:
            request = {self.score: [{"PutRequest": {"Item": item}} for item in chunk]}
            while request:
                request = self.ddb.batch_write_item(RequestItems=request)["UnprocessedItems"]

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(write, chunks))
        self.written += len(items)

    def create_retrain_table(self) -> None:
        """Create the retrain table as provisioning does (for tests that start without one)."""
        ensure_table(self.ddb, self.retrain, stream=False, timeout=120)

    def retrain_items(self) -> list[dict]:
        items: list[dict] = []
        kwargs: dict[str, Any] = {"TableName": self.retrain, "ConsistentRead": True}
        while True:
            page = self.ddb.scan(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def retrain_keys(self) -> list[tuple[str, str]]:
        return [(i["partition_key"]["S"], i["sort_key"]["S"]) for i in self.retrain_items()]

    def settings(self, data_dir: Path, **overrides: Any) -> EsmSettings:
        values: dict[str, Any] = {
            "score_table": self.score,
            "retrain_table": self.retrain,
            "data_dir": data_dir,
            "aws_endpoint_url": self.endpoint.url,
            "aws_region": self.endpoint.region,
            "esm_poll_interval": 0.05,
            "esm_discovery_interval": 0.2,
            "esm_retry_backoff": 0.0,
            # Tests wait for their records on the stream first (wait_streamed), so drained means
            # done; test_stream_latency sets its own quiet window.
            "esm_idle_quiet_s": 0.0,
        }
        values.update(overrides)
        return EsmSettings(**values)

    def env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        """Environment for ``python -m infra.esm`` in a subprocess."""
        env = dict(os.environ)
        env.update(
            {
                "IRIS_SCORE_TABLE": self.score,
                "IRIS_RETRAIN_TABLE": self.retrain,
                "IRIS_DATA_DIR": str(data_dir),
                "IRIS_ESM_POLL_INTERVAL": "0.05",
                "IRIS_ESM_DISCOVERY_INTERVAL": "0.2",
            }
            | self.endpoint.child_env()
        )
        env.update(extra)
        return env


@pytest.fixture(autouse=True)
def _function_environment() -> Iterator[None]:
    """The runner sets its function's environment in its own process (RETRAIN_TABLE, the
    endpoint, ...), as Lambda's runtime does; each test gets the process environment back."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def esm_tables(aws_endpoint: Any, provisioned_tables: dict[str, str], read_stream) -> EsmTables:
    """Fresh score (stream NEW_IMAGE) and retrain tables from provisioning; deleted afterwards."""
    ddb = boto3.client("dynamodb", **aws_endpoint.client_kwargs())
    score, retrain = provisioned_tables["score"], provisioned_tables["retrain"]
    return EsmTables(ddb, score, retrain, aws_endpoint, read_stream)


@pytest.fixture
def make_items():
    return mixed_items


@pytest.fixture
def make_score_item():
    return score_item
