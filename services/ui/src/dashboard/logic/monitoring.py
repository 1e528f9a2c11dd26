"""Logic of the Monitoring page: runs over time, a run's score records and retrain candidates.

Records and candidates are read through model_api from the two DynamoDB tables; the flagger
fills the candidates table asynchronously from the score table's stream, so the page refreshes
on its own and the user watches flagged records arrive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import dash_bootstrap_components as dbc
from dash import dcc, html, no_update

from dashboard import ids
from dashboard.api import ApiClient, ApiError
from dashboard.components.figures import empty_figure
from dashboard.components.grid import block_request, block_response
from dashboard.components.layout import error_alert, fmt_pct, kpi
from dashboard.components.run_figures import runs_figure
from dashboard.logic.monitoring_rows import (
    RECORD_COLUMNS,
    candidate_row,
    reasons_of,
    record_row,
    retrain_href,
    run_options,
    runs_table,
)
from dashboard.logic.test import logging_view

RUNS_SHOWN = 50
MAX_RECORDS = 5000
RECORDS_PAGE_SIZE = 10
# the candidates this page lists: one page of the retrain table (all of a run's candidates,
# with triage and review, are the Retrain page's; their count is the run summary's ``flagged``)
CANDIDATES_SHOWN = 50


class Overview(NamedTuple):
    """The top of the page from one ``GET /api/runs``."""

    figure: Any  # accuracy and flagged share per run over time
    runs: Any  # the runs grid's rows
    alert: Any
    run_options: Any
    run: Any
    summary: Any  # the chosen run's KPIs (no_update: unchanged)
    shown: Any  # what the grids follow: run id and counts (no_update: unchanged)


class RunShown(NamedTuple):
    summary: Any
    shown: Any


class RunDetail(NamedTuple):
    summary: Any
    shown: Any
    alert: Any


class CandidatesShown(NamedTuple):
    rows: Any
    reasons: Any  # a line counting the flag reasons


class FirstView(NamedTuple):
    """The page as it opens: :class:`Overview`, the records grid's first block and the
    candidates."""

    figure: Any
    runs: Any
    alert: Any
    run_options: Any
    run: Any
    summary: Any
    shown: Any
    first: Any
    candidates: Any
    reasons: Any


def overview(
    client: ApiClient,
    selected: str | None,
    remembered: str | None,
    shown_options: Sequence[Mapping[str, Any]] | None,
    picked: bool = False,
) -> Overview:
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
        return Overview(no_update, no_update, alert, no_update, no_update, no_update, no_update)
    runs = sorted(page.get("items", []), key=lambda r: str(r.get("created_at", "")), reverse=True)
    options = run_options(runs)
    known = [o["value"] for o in options]
    value = next((r for r in (selected, remembered) if r in known), known[0] if known else None)
    summary: Any = no_update
    shown: Any = no_update
    if picked or value != selected or selected is None:  # a new selection: draw it right here
        run = next((r for r in runs if r["run_id"] == value), None)
        summary, shown = run_view(run, None) if run else (no_update, None)
    return Overview(
        runs_figure(runs),
        runs_table(runs),
        None,
        no_update if list(shown_options or []) == options else options,
        no_update if value == selected and selected is not None else value,
        summary,
        shown,
    )


def first_view(client: ApiClient) -> FirstView:
    """The page as it opens (the newest run), for the layout: :func:`overview` with nothing
    selected yet, where a failed call leaves empty parts instead of ``no_update``; then the
    records grid's first page (``None`` without a run: the grid asks the server) and the
    candidates and their reasons, read side by side."""
    parts = overview(client, None, None, None)
    empty = (empty_figure("No runs to show"), [], None, [], None, None, None)
    view = tuple(e if p is no_update else p for p, e in zip(parts, empty, strict=True))
    shown = view[-1]
    if not shown:
        return FirstView(*view, None, *candidates_view(client, None))
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(records_block, client, shown, None)
        candidates = pool.submit(candidates_view, client, shown)
        rows, reasons = candidates.result()
        return FirstView(*view, first.result(), [] if rows is no_update else rows, reasons)


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


def run_detail(client: ApiClient, run_id: str | None, shown: Mapping[str, Any] | None) -> RunDetail:
    """KPIs + logging progress, what the page shows now, an alert — from ``GET /api/runs/{id}``
    alone (the summary has the written and flagged counts), so a tick every two seconds is one
    small call. ``mon-shown`` only changes when a count did: then the grids re-read."""
    if not run_id:
        empty = html.P("No run selected. Run a test on the Test page.", className="text-muted")
        return RunDetail(empty, None, None)
    try:
        run = client.get_run(run_id)
        return RunDetail(*run_view(run, shown), None)
    except ApiError as exc:
        return RunDetail(no_update, no_update, error_alert(exc, f"Could not read run {run_id}"))


def run_view(run: Mapping[str, Any], shown: Mapping[str, Any] | None) -> RunShown:
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
                    element_id=ids.Monitoring.RECORDS_COUNT,
                ),
                md=3,
            ),
            dbc.Col(
                kpi(
                    "Retrain candidates",
                    "—" if flagged is None else str(flagged),
                    colour="danger",
                    element_id=ids.Monitoring.CANDIDATES_COUNT,
                ),
                md=3,
            ),
            dbc.Col(kpi("Flagged share", fmt_pct(share), colour="warning"), md=3),
        ],
        className="g-3 mb-3",
    )
    now = {"run_id": run_id, "records": record_count, "candidates": flagged}
    changed = now != {k: before.get(k) for k in now}
    return RunShown([kpis, logging_view(logging)], now if changed else no_update)


def candidates_view(client: ApiClient, shown: Mapping[str, Any] | None) -> CandidatesShown:
    """The candidates grid's rows (one page of them) and their flag reasons, read when the run
    or the number of candidates changed."""
    run_id = (shown or {}).get("run_id")
    if not run_id:
        return CandidatesShown([], "Flag reasons — none yet")
    try:
        page = client.retrain_candidates(run_id=run_id, limit=CANDIDATES_SHOWN)
    except ApiError:
        return CandidatesShown(no_update, no_update)
    items = list(page.get("items") or [])
    reasons = Counter(reason for c in items for reason in reasons_of(c))
    text = " · ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "none yet"
    if page.get("next_cursor"):  # more than one page: say what is counted, and where the rest is
        text += f" (the first {len(items)}; every candidate on the Retrain page)"
    return CandidatesShown([candidate_row(c) for c in items], f"Flag reasons — {text}")


# --- closing the loop happens on the Retrain page (server-side jobs), linked from here -------


def retrain_link(run_id: str | None) -> Any:
    """Where the selected run's flagged records are triaged, reviewed and retrained on."""
    if not run_id:
        return html.Span("Choose a run to review its flagged records.", className="text-muted")
    return dcc.Link(
        "Review these flagged records and retrain on the Retrain page →",
        href=retrain_href(run_id),
        id=ids.Monitoring.RETRAIN_LINK,
        className="btn btn-primary",
    )
