"""Helpers for the score log tests: runs and rows shaped like model_api's, tables, counts."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import model_api
from infra.provision.tables import ensure_table

CLASSES = ["setosa", "versicolor", "virginica"]
BUNDLED_CSV = Path(model_api.__file__).parent / "data" / "iris_extended_encoded.csv"


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


def bundled_rows() -> list[dict[str, Any]]:
    """The bundled data set as plain dicts (species str, soil_type int, other features float)."""
    with BUNDLED_CSV.open(newline="") as fh:
        out = []
        for rec in csv.DictReader(fh):
            row: dict[str, Any] = {}
            for key, value in rec.items():
                if key == "species":
                    row[key] = value
                elif key == "soil_type":
                    row[key] = int(value)
                else:
                    row[key] = float(value)
            out.append(row)
    return out


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


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until true or ``timeout`` elapses (a deadline, not a speed check)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
