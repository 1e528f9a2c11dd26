"""What the flagger benchmarks share: score items, the retrain table's copies, the runner process.

The runner is ``python -m infra.esm`` as a subprocess, its periodic ``metrics`` lines parsed as
they arrive; latencies are each copy's ``flagged_at`` minus its score item's ``created_at``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from iris_common.clock import parse_iso

from tests.support.scorelog_kit import score_item

SCORE, RETRAIN = "BenchIrisExtended", "BenchIrisExtendedRetrain"
WRITER_THREADS = 4


def item(run: str, row: int, flagged: bool, created: float) -> dict[str, Any]:
    """A score item as model_api writes it, written at ``created`` (its ``created_at``)."""
    predicted = "versicolor" if flagged else "setosa"
    return score_item(run, row, predicted, "setosa", "0.97", datetime.fromtimestamp(created, UTC))


def ts(iso: str) -> float:
    return parse_iso(iso).timestamp()


def scan(ddb: Any, run: str, table: str = RETRAIN) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "partition_key = :r",
        "ExpressionAttributeValues": {":r": {"S": run}},
        "ProjectionExpression": "sort_key, created_at, flagged_at",
    }
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class RunnerProcess:
    """``python -m infra.esm`` with its metrics lines parsed as they arrive."""

    env: dict[str, str]
    proc: subprocess.Popen | None = None
    metrics: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infra.esm"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{") and '"metrics"' in line:
                self.metrics.append((time.time(), json.loads(line)))

    def latest(self) -> dict[str, Any]:
        return self.metrics[-1][1] if self.metrics else {}

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
