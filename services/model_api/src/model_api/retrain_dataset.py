"""Close the loop: turn retrain candidates (the flagger's table) into a training data set.

Each candidate keeps the scored row in ``Features`` (the seed's ``str(dict)``, which the score
log's reader parses safely into ``features``) and the label in ``Actual``. Optionally the
candidates are appended to a base data set, so that retraining sees them next to normal rows.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from model_api.errors import ApiError, invalid
from model_api.features import COLUMNS, LABEL
from model_api.scorelog.queries import RecordReader, TableUnavailable

MAX_CANDIDATES = 100_000
PAGE = 1000


async def fetch_candidates(
    reader: RecordReader, run_id: str | None, model_id: int | None
) -> list[dict[str, Any]]:
    """Every candidate of a run (or of a model, or all), following the table's pages."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(items) < MAX_CANDIDATES:
        try:
            page = await reader.retrain(run_id, model_id, PAGE, cursor)
        except TableUnavailable as exc:
            raise ApiError(503, exc.code, str(exc)) from exc
        items += page.items
        cursor = page.next_cursor
        if cursor is None:
            return items
    raise invalid(f"more than {MAX_CANDIDATES} candidates; narrow by run_id or model_id")


def candidates_frame(items: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows from candidate items: the features as scored, the species as ``Actual``."""
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for item in items:
        if "unreadable" in (item.get("reasons") or []):
            continue  # the flagger could not read it: no trustworthy row or label to train on
        features = item.get("features")
        actual = item.get("Actual")
        if not isinstance(features, dict) or not isinstance(actual, str):
            skipped.append(f"{item.get('partition_key')}/{item.get('sort_key')}")
            continue
        row = {**features, LABEL: actual}
        if any(c not in row for c in COLUMNS):
            skipped.append(f"{item.get('partition_key')}/{item.get('sort_key')}")
            continue
        rows.append({c: row[c] for c in COLUMNS})
    if skipped:
        raise invalid(
            "some candidates do not hold a readable row",
            {"items": skipped[:20], "count": len(skipped)},
            code="bad_candidates",
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))
