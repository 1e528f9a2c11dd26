"""Logic of the Monitoring page: runs over time, a run's score records and retrain candidates.

Records and candidates are read through model_api from the two DynamoDB tables; the flagger
fills the candidates table asynchronously from the score table's stream, so the page refreshes
on its own and the user watches flagged records arrive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import html, no_update

from dashboard.api_client import ApiClient, ApiError
from dashboard.figures import runs_figure
from dashboard.views.common import error_alert, fmt_pct, fmt_time, kpi
from dashboard.views.test_view import logging_done, logging_view

RUNS_SHOWN = 50
FLAGGED_COUNTED_RUNS = 10  # flagged share is counted for the newest runs only (one query each)
MAX_RECORDS = 5000
RECORDS_PAGE_SIZE = 10
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


def runs_overview(client: ApiClient) -> tuple[list[dict[str, Any]], Any]:
    """Recent runs with their flagged share (candidates / rows) for the newest few."""
    page = client.list_runs(limit=RUNS_SHOWN)
    runs = [dict(r) for r in page.get("items", [])]
    newest = sorted(runs, key=lambda r: str(r.get("created_at", "")), reverse=True)
    for run in newest[:FLAGGED_COUNTED_RUNS]:
        rows = int(run.get("rows") or 0)
        flagged = len(
            client.all_retrain_candidates(str(run["run_id"]), max_items=rows or MAX_RECORDS)
        )
        run["flagged"] = flagged
        run["flagged_share"] = flagged / rows if rows else None
    return newest, page.get("total", len(runs))


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
        out.append(
            {
                "run_id": r.get("run_id"),
                "created_at": fmt_time(r.get("created_at")),
                "model": r.get("model_id"),
                "dataset": r.get("dataset_id"),
                "rows": r.get("rows"),
                "accuracy": fmt_pct(r.get("accuracy")),
                "logged": f"{logging.get('written', '—')}/{logging.get('total', '—')}",
                "flagged": r.get("flagged", "…"),
                "flagged_share": fmt_pct(r.get("flagged_share")),
            }
        )
    return out


def overview(client: ApiClient) -> tuple[Any, Any, Any]:
    """The runs-over-time figure, the runs table, an alert."""
    try:
        runs, _total = runs_overview(client)
    except ApiError as exc:
        return no_update, no_update, error_alert(exc, "Could not list runs")
    return runs_figure(runs), runs_table(runs), None


def run_picker(client: ApiClient, selected: str | None, remembered: str | None) -> tuple[Any, Any]:
    """Options and value of the run picker: the user's run, else this tab's last test, else the
    newest run. Kept apart from the overview so the run's detail does not wait for counting."""
    try:
        runs = client.list_runs(limit=RUNS_SHOWN).get("items", [])
    except ApiError:
        return no_update, no_update
    runs = sorted(runs, key=lambda r: str(r.get("created_at", "")), reverse=True)
    options = run_options(runs)
    ids = [o["value"] for o in options]
    return options, next((r for r in (selected, remembered) if r in ids), ids[0] if ids else None)


def records_page(
    client: ApiClient,
    run_id: str | None,
    page: int | None,
    sort_by: Sequence[Mapping[str, str]] | None,
) -> tuple[Any, int, int]:
    """One page of a run's score records (server-side paging and sorting): data, pages, page."""
    if not run_id:
        return [], 1, 0
    try:
        records = [record_row(r) for r in client.all_run_records(run_id, max_items=MAX_RECORDS)]
    except ApiError:
        return no_update, no_update, no_update
    pages = max(1, -(-len(records) // RECORDS_PAGE_SIZE))
    page = min(max(int(page or 0), 0), pages - 1)
    for key in reversed(list(sort_by or [])):
        column = key.get("column_id")
        if column in RECORD_COLUMNS:
            records.sort(
                key=lambda r, c=column: (r.get(c) is None, r.get(c)),
                reverse=key.get("direction") == "desc",
            )
    return records[page * RECORDS_PAGE_SIZE : (page + 1) * RECORDS_PAGE_SIZE], pages, page


def run_detail(
    client: ApiClient, run_id: str | None, shown: Mapping[str, Any] | None
) -> tuple[Any, Any, Any, Any]:
    """KPIs + logging progress, the candidates table, what the page shows now, an alert.

    ``shown`` remembers the run and how many records and candidates the page has: the
    candidates are only resent, and the records table (its own callback) only re-read, when
    those numbers change, so polling every two seconds stays cheap.
    """
    if not run_id:
        empty = html.P("No run selected. Run a test on the Test page.", className="text-muted")
        return empty, [], None, None
    before = shown if shown and shown.get("run_id") == run_id else {}
    try:
        run = client.get_run(run_id)
        rows = int(run.get("rows") or 0)
        logging = run.get("logging") or {}
        # a fully written run's score records cannot change: read them once, not every tick
        settled = logging_done(logging) and before.get("records") == rows
        records = None if settled else client.all_run_records(run_id, max_items=MAX_RECORDS)
        candidates = client.all_retrain_candidates(run_id, max_items=MAX_RECORDS)
    except ApiError as exc:
        alert = error_alert(exc, f"Could not read run {run_id}")
        return no_update, no_update, no_update, alert
    record_count = rows if records is None else len(records)
    reasons = Counter(reason for c in candidates for reason in reasons_of(c))
    kpis = dbc.Row(
        [
            dbc.Col(kpi("Accuracy", fmt_pct(run.get("accuracy"))), md=3),
            dbc.Col(
                kpi(
                    "Records in score table",
                    f"{record_count}/{rows}",
                    colour="secondary",
                    element_id="mon-records-count",
                ),
                md=3,
            ),
            dbc.Col(
                kpi(
                    "Retrain candidates",
                    str(len(candidates)),
                    colour="danger",
                    element_id="mon-candidates-count",
                ),
                md=3,
            ),
            dbc.Col(
                kpi(
                    "Flagged share",
                    fmt_pct(len(candidates) / rows if rows else None),
                    colour="warning",
                ),
                md=3,
            ),
        ],
        className="g-3 mb-3",
    )
    reason_text = " · ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "none yet"
    summary = [
        kpis,
        logging_view(logging),
        html.Div(
            f"Flag reasons — {reason_text}", className="small text-muted mt-1", id="mon-reasons"
        ),
    ]
    now = {"run_id": run_id, "records": record_count, "candidates": len(candidates)}
    changed = now != {k: before.get(k) for k in now}
    candidate_data: Any = [candidate_row(c) for c in candidates]
    if before.get("candidates") == len(candidates):
        candidate_data = no_update
    return summary, candidate_data, now if changed else no_update, None
