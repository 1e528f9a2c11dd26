"""The Monitoring page's grid rows: score records, retrain candidates and runs as the grids show
them (pure functions of model_api's items)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from dashboard.components.layout import fmt_pct, fmt_time

RECORD_COLUMNS = ("row", "predicted", "actual", "probability", "match", "created_at")


def _probability(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _row_number(item: Mapping[str, Any]) -> int | str:
    key = item.get("sort_key")
    try:
        return int(str(key))
    except (TypeError, ValueError):
        return str(key)


def record_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """One score-table item as a table row."""
    probability = _probability(item.get("Probability"))
    return {
        "row": _row_number(item),
        "predicted": item.get("Class"),
        "actual": item.get("Actual"),
        "probability": round(probability, 4) if probability is not None else None,
        "match": "✓" if item.get("Class") == item.get("Actual") else "✗",
        "created_at": fmt_time(item.get("created_at")),
    }


def reasons_of(item: Mapping[str, Any]) -> list[str]:
    reasons = item.get("reasons") or []
    if isinstance(reasons, str):
        return [reasons]
    return sorted(str(r) for r in reasons)


def candidate_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """One retrain-table item as a table row."""
    row = record_row(item)
    row.pop("match")
    row.pop("created_at")
    row["reasons"] = ", ".join(reasons_of(item))
    row["flagged_at"] = fmt_time(item.get("flagged_at"))
    return row


def run_options(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "label": f"{r['run_id']} · model #{r.get('model_id')} on data set "
            f"#{r.get('dataset_id')} · accuracy {fmt_pct(r.get('accuracy'))}",
            "value": r["run_id"],
        }
        for r in runs
    ]


def runs_table(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in runs:
        logging = r.get("logging") or {}
        flagged = r.get("flagged")
        out.append(
            {
                "run_id": r.get("run_id"),
                "created_at": fmt_time(r.get("created_at")),
                "model": r.get("model_id"),
                "dataset": r.get("dataset_id"),
                "rows": r.get("rows"),
                "accuracy": fmt_pct(r.get("accuracy")),
                "logged": f"{logging.get('written', '—')}/{logging.get('total', '—')}",
                "flagged": "—" if flagged is None else flagged,
                "flagged_share": fmt_pct(r.get("flagged_share")),
                "retrain": f"[review →]({retrain_href(str(r.get('run_id')))})",
            }
        )
    return out


def retrain_href(run_id: str) -> str:
    return f"/retrain?run_id={quote(run_id, safe='')}"
