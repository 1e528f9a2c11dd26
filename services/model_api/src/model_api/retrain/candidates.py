"""Retrain candidates as the API shows them: the flagger's item plus its triage and review.

Triage needs the whole run (cleanlab estimates noise rates per class from every row), so the
run's records are read from the score table once and the result is cached per run until the
run's record count changes (a run still being logged is triaged again on the next read).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool

from model_api.core.errors import ApiError, invalid
from model_api.retrain.triage import RunTriage, triage_run, untriaged
from model_api.scorelog.queries import RecordReader, TableUnavailable

MAX_CANDIDATES = 100_000
PAGE = 1000
UNREADABLE = "no probabilities for this record (unreadable or not in the score table): not triaged"


def key_of(item: dict[str, Any]) -> tuple[str, str]:
    return str(item.get("partition_key")), str(item.get("sort_key"))


async def _all(call: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(items) < MAX_CANDIDATES:
        try:
            page = await call(cursor)
        except TableUnavailable as exc:
            raise ApiError(503, exc.code, str(exc)) from exc
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items
    raise invalid(f"more than {MAX_CANDIDATES} records; narrow by run_id or model_id")


async def fetch_candidates(
    reader: RecordReader, run_id: str | None, model_id: int | None
) -> list[dict[str, Any]]:
    """Every candidate of a run (or of a model, or all), following the table's pages."""
    return await _all(lambda c: reader.retrain(run_id, model_id, PAGE, c))


async def fetch_run_records(reader: RecordReader, run_id: str) -> list[dict[str, Any]]:
    """Every record of a run in the score table, in row order."""
    return await _all(lambda c: reader.run_records(run_id, PAGE, c))


def triage_records(records: list[dict[str, Any]], classes: list[str] | None) -> RunTriage:
    """Triage the rows of one run that carry a readable probability vector."""
    usable = [
        r
        for r in records
        if isinstance(r.get("class_probabilities"), dict)
        and isinstance(r.get("Actual"), str)
        and r.get("position") is not None
    ]
    if classes is None:
        classes = sorted({c for r in usable for c in r["class_probabilities"]})
    usable = [r for r in usable if set(r["class_probabilities"]) == set(classes)]
    probs = np.array(
        [[float(r["class_probabilities"][c]) for c in classes] for r in usable], dtype=float
    ).reshape(len(usable), len(classes))
    result = triage_run(
        [int(r["position"]) for r in usable], [r["Actual"] for r in usable], probs, classes
    )
    skipped = len(records) - len(usable)
    if skipped:
        result.notes.append(f"{skipped} records of the run have no usable probabilities")
    return result


class Triager:
    """Triage per run, cached while the run's record count stays the same."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[int, RunTriage]] = {}

    async def run(
        self,
        reader: RecordReader,
        run_id: str,
        classes: list[str] | None,
        expected_rows: int | None,
    ) -> RunTriage:
        with self._lock:
            hit = self._cache.get(run_id)
        if hit is not None and expected_rows is not None and hit[0] >= expected_rows:
            return hit[1]  # the whole run was triaged: its records no longer change
        records = await fetch_run_records(reader, run_id)
        if hit is not None and hit[0] == len(records):
            return hit[1]
        # cleanlab is CPU-bound: keep it off the event loop
        result = await run_in_threadpool(triage_records, records, classes)
        if expected_rows is not None and len(records) < expected_rows:
            result.notes.append(
                f"the score table holds {len(records)} of the run's {expected_rows} records so far"
            )
        else:
            with self._lock:
                self._cache[run_id] = (len(records), result)
        return result


def annotate(item: dict[str, Any], triage: RunTriage | None) -> dict[str, Any]:
    """The candidate item with its triage fields and ``review`` (None until reviewed)."""
    verdict = None
    if triage is not None and item.get("position") is not None:
        verdict = triage.rows.get(int(item["position"]))
    out = dict(item)
    out.update((verdict or untriaged(UNREADABLE)).as_dict())
    out.setdefault("review", None)
    out.setdefault("review_history", [])
    return out
