"""Helpers for the score log tests: runs and rows shaped like model_api's, tables, counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.provision.tables import ensure_table
from model_api.scorelog.items import WireItem, build_item
from model_api.scorelog.service import ScoreLog

from tests.support.bundled import bundled_rows

CLASSES = ["setosa", "versicolor", "virginica"]


@dataclass
class Run:
    """Shaped like model_api's TestRunInfo (the score log types against a Protocol)."""

    run_id: str
    model_id: int = 3
    dataset_id: int = 0
    classes: list[str] = field(default_factory=lambda: list(CLASSES))
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Row:
    """Shaped like model_api's TestedRow."""

    position: int
    row: dict[str, Any]
    predicted: str
    probabilities: list[float]


def scored_rows(n: int) -> list[Row]:
    """``n`` tested rows (cycling through the bundled data), predicting the actual class."""
    data = bundled_rows()
    rows = []
    for i in range(n):
        row = dict(data[i % len(data)])
        probs = [0.01, 0.01, 0.01]
        probs[CLASSES.index(row["species"])] = 0.98
        rows.append(Row(i, row, row["species"], probs))
    return rows


def create_score_table(ddb: Any, name: str, streams: Any) -> None:
    """The score table made by the product's provisioning (keys S/S, on demand, NEW_IMAGE)."""
    ensure_table(ddb, name, stream=True, timeout=120, streams=streams)


def scan_keys(ddb: Any, table: str) -> list[tuple[str, str]]:
    """Every key in the table (all pages), to prove nothing is missing or duplicated."""
    keys: list[tuple[str, str]] = []
    for page in ddb.get_paginator("scan").paginate(
        TableName=table, ProjectionExpression="partition_key, sort_key", ConsistentRead=True
    ):
        keys += [(i["partition_key"]["S"], i["sort_key"]["S"]) for i in page["Items"]]
    return keys


def count_items(ddb: Any, table: str) -> int:
    total = 0
    for page in ddb.get_paginator("scan").paginate(
        TableName=table, Select="COUNT", ConsistentRead=True
    ):
        total += page["Count"]
    return total


COURSE_CREATED_AT = datetime(2026, 11, 25, 3, 15, 9, 456000, UTC)


def score_item(
    run_id: str,
    row: int,
    predicted: str,
    actual: str,
    probability: str,
    created_at: datetime = COURSE_CREATED_AT,
) -> WireItem:
    """One score-table item as model_api writes it (its own ``build_item``), for a row whose
    predicted class got ``probability`` and the two others an equal share of the rest."""
    p = float(probability)
    probs = [(1.0 - p) / 2] * len(CLASSES)
    probs[CLASSES.index(predicted)] = p
    features = {"species": actual, "elevation": 161.8, "area_ratios": 41.26}
    return build_item(
        Run(run_id, model_id=0, created_at=created_at), Row(row, features, predicted, probs)
    )


@asynccontextmanager
async def running(log: ScoreLog) -> AsyncIterator[ScoreLog]:
    """The log's writer started for the block, and stopped however the block ends."""
    await log.start()
    try:
        yield log
    finally:
        await log.stop()


def score_log(tmp_path: Path, tables: dict[str, str], aws: Any, **kwargs: Any) -> ScoreLog:
    """model_api's ScoreLog on the test's provisioned tables and endpoint."""
    return ScoreLog(
        tmp_path / "var",
        tables["score"],
        retrain_table=tables["retrain"],
        endpoint_url=aws.url,
        region=aws.region,
        **kwargs,
    )
