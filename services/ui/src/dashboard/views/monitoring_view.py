"""Logic of the Monitoring page: runs over time, a run's score records and retrain candidates.

Records and candidates are read through model_api from the two DynamoDB tables; the flagger
fills the candidates table asynchronously from the score table's stream, so the page refreshes
on its own and the user watches flagged records arrive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import dcc, html, no_update

from dashboard.api import ApiClient, ApiError
from dashboard.components.figures import empty_figure, runs_figure
from dashboard.components.grid import block_request, block_response
from dashboard.components.layout import error_alert, fmt_pct, fmt_time, kpi
from dashboard.logic.test import logging_view

RUNS_SHOWN = 50
MAX_RECORDS = 5000
RECORDS_PAGE_SIZE = 10
# the candidates this page lists: one page of the retrain table (all of a run's candidates,
# with triage and review, are the Retrain page's; their count is the run summary's ``flagged``)
CANDIDATES_SHOWN = 50
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


def overview(
    client: ApiClient,
    selected: str | None,
    remembered: str | None,
    shown_options: Sequence[Mapping[str, Any]] | None,
    picked: bool = False,
) -> tuple[Any, Any, Any, Any, Any, Any, Any]:
    """One ``GET /api/runs`` for the whole top of the page: the runs-over-time figure, the runs
    table, an alert, and the run picker's options and value (the user's run, else this tab's
    last test, else the newest), and — when the selection is new (``picked``: the user chose
    it) — that run's KPIs and ``mon-shown`` from its summary in the list (no second round trip
    before the grids load).
    The summaries carry their flagged count, so nothing is counted here; the picker is only
    re-sent when it changed (no redraw chain every 10 s)."""
    try:
        page = client.list_runs(limit=RUNS_SHOWN)
    except ApiError as exc:
        alert = error_alert(exc, "Could not list runs")
        return no_update, no_update, alert, no_update, no_update, no_update, no_update
    runs = sorted(page.get("items", []), key=lambda r: str(r.get("created_at", "")), reverse=True)
    options = run_options(runs)
    ids = [o["value"] for o in options]
    value = next((r for r in (selected, remembered) if r in ids), ids[0] if ids else None)
    summary: Any = no_update
    shown: Any = no_update
    if picked or value != selected or selected is None:  # a new selection: draw it right here
        run = next((r for r in runs if r["run_id"] == value), None)
        summary, shown = run_view(run, None) if run else (no_update, None)
    return (
        runs_figure(runs),
        runs_table(runs),
        None,
        no_update if list(shown_options or []) == options else options,
        no_update if value == selected and selected is not None else value,
        summary,
        shown,
    )


def first_view(client: ApiClient) -> tuple[Any, ...]:
    """The page as it opens (the newest run), for the layout: :func:`overview` with nothing
    selected yet, where a failed call leaves empty parts instead of ``no_update``; then the
    records grid's first page (``None`` without a run: the grid asks the server) and the
    candidates and their reasons, read side by side."""
    parts = overview(client, None, None, None)
    empty = (empty_figure("No runs to show"), [], None, [], None, None, None)
    view = tuple(e if p is no_update else p for p, e in zip(parts, empty, strict=True))
    shown = view[-1]
    if not shown:
        return (*view, None, *candidates_view(client, None))
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(records_block, client, shown, None)
        candidates = pool.submit(candidates_view, client, shown)
        rows, reasons = candidates.result()
        return (*view, first.result(), [] if rows is no_update else rows, reasons)


def records_block(
    client: ApiClient, shown: Mapping[str, Any] | None, request: Mapping[str, Any] | None
) -> dict[str, Any]:
    """One block of a run's score records for the grid's infinite row model.

    Unsorted, only the rows up to the block's end are read (one query for the first page);
    a sort needs every record (up to ``MAX_RECORDS``), sorted here.
    """
    run_id = (shown or {}).get("run_id")
    if not run_id:
        return block_response([], 0)
    start, end, keys = block_request(request, RECORDS_PAGE_SIZE)
    keys = [k for k in keys if k["column_id"] in RECORD_COLUMNS]
    try:
        wanted = MAX_RECORDS if keys else end
        items = client.all_run_records(run_id, max_items=min(wanted, MAX_RECORDS))
    except ApiError:
        return block_response([], 0)
    records = [record_row(r) for r in items]
    for key in reversed(keys):
        column = key["column_id"]
        records.sort(
            key=lambda r, c=column: (r.get(c) is None, r.get(c)),
            reverse=key["direction"] == "desc",
        )
    if keys or len(items) < end:  # read to the end of the run: the count is exact
        total = len(items)
    else:
        total = max(int((shown or {}).get("records") or 0), len(items))
    return block_response(records[start:end], total)


def run_detail(
    client: ApiClient, run_id: str | None, shown: Mapping[str, Any] | None
) -> tuple[Any, Any, Any]:
    """KPIs + logging progress, what the page shows now, an alert — from ``GET /api/runs/{id}``
    alone (the summary has the written and flagged counts), so a tick every two seconds is one
    small call. ``mon-shown`` only changes when a count did: then the grids re-read."""
    if not run_id:
        empty = html.P("No run selected. Run a test on the Test page.", className="text-muted")
        return empty, None, None
    try:
        run = client.get_run(run_id)
        return (*run_view(run, shown), None)
    except ApiError as exc:
        return no_update, no_update, error_alert(exc, f"Could not read run {run_id}")


def run_view(run: Mapping[str, Any], shown: Mapping[str, Any] | None) -> tuple[Any, Any]:
    """The KPIs and logging progress of a run summary, and ``mon-shown`` (or no_update when
    no count changed since ``shown``)."""
    run_id = str(run["run_id"])
    before = shown if shown and shown.get("run_id") == run_id else {}
    flagged, share = run.get("flagged"), run.get("flagged_share")  # counted by the API
    rows = int(run.get("rows") or 0)
    logging = run.get("logging") or {}
    # every record the writer had acknowledged by DynamoDB is in the score table
    record_count = int(logging.get("written") or 0) if logging else rows
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
                    "—" if flagged is None else str(flagged),
                    colour="danger",
                    element_id="mon-candidates-count",
                ),
                md=3,
            ),
            dbc.Col(kpi("Flagged share", fmt_pct(share), colour="warning"), md=3),
        ],
        className="g-3 mb-3",
    )
    now = {"run_id": run_id, "records": record_count, "candidates": flagged}
    changed = now != {k: before.get(k) for k in now}
    return [kpis, logging_view(logging)], now if changed else no_update


def candidates_view(client: ApiClient, shown: Mapping[str, Any] | None) -> tuple[Any, Any]:
    """The candidates grid's rows (one page of them) and their flag reasons, read when the run
    or the number of candidates changed."""
    run_id = (shown or {}).get("run_id")
    if not run_id:
        return [], "Flag reasons — none yet"
    try:
        page = client.retrain_candidates(run_id=run_id, limit=CANDIDATES_SHOWN)
    except ApiError:
        return no_update, no_update
    items = list(page.get("items") or [])
    reasons = Counter(reason for c in items for reason in reasons_of(c))
    text = " · ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "none yet"
    if page.get("next_cursor"):  # more than one page: say what is counted, and where the rest is
        text += f" (the first {len(items)}; every candidate on the Retrain page)"
    return [candidate_row(c) for c in items], f"Flag reasons — {text}"


# --- closing the loop happens on the Retrain page (server-side jobs), linked from here -------


def retrain_href(run_id: str) -> str:
    return f"/retrain?run_id={quote(run_id, safe='')}"


def retrain_link(run_id: str | None) -> Any:
    """Where the selected run's flagged records are triaged, reviewed and retrained on."""
    if not run_id:
        return html.Span("Choose a run to review its flagged records.", className="text-muted")
    return dcc.Link(
        "Review these flagged records and retrain on the Retrain page →",
        href=retrain_href(run_id),
        id="mon-retrain-link",
        className="btn btn-primary",
    )
