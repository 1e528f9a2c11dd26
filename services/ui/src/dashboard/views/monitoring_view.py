"""Logic of the Monitoring page: runs over time, a run's score records and retrain candidates.

Records and candidates are read through model_api from the two DynamoDB tables; the flagger
fills the candidates table asynchronously from the score table's stream, so the page refreshes
on its own and the user watches flagged records arrive.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import html, no_update

from dashboard.api_client import ApiClient, ApiError
from dashboard.components.grid import block_request, block_response
from dashboard.figures import runs_figure
from dashboard.views.common import (
    ACTIVE_STATUSES,
    dataset_options,
    error_alert,
    fmt_pct,
    fmt_time,
    info_alert,
    kpi,
    status_badge,
)
from dashboard.views.models_view import progress_text
from dashboard.views.test_view import logging_done, logging_view

RUNS_SHOWN = 50
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
    flagged, share = flagged_share(run)
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
    """The candidates grid's rows and the flag reasons, read when their number changed."""
    run_id = (shown or {}).get("run_id")
    if not run_id:
        return [], "Flag reasons — none yet"
    try:
        items = client.all_retrain_candidates(run_id, max_items=MAX_RECORDS)
    except ApiError:
        return no_update, no_update
    reasons = Counter(reason for c in items for reason in reasons_of(c))
    text = " · ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "none yet"
    return [candidate_row(c) for c in items], f"Flag reasons — {text}"


# --- closing the loop: retrain the run's model on its flagged records ------------------------

# After the re-test the flagger still copies the new run's candidates from the stream: keep
# counting until the run is fully logged and the count held still for one tick (or give up).
MAX_COUNT_TICKS = 120
FLIPPED_NOTE = (
    "Runs with flipped labels (a demo of label noise) will look worse after retraining: their "
    "flagged records carry wrong labels on purpose, and the model learns them."
)


def flagged_share(run: Mapping[str, Any]) -> tuple[int | None, float | None]:
    """How many of a run's records the flagger copied to the retrain table, and their share
    (the API counts them; None while the retrain table cannot be read)."""
    return run.get("flagged"), run.get("flagged_share")


def retrain_base_options(
    client: ApiClient, run_id: str | None, current: int | None, current_for: str | None
) -> tuple[Any, Any, Any, Any]:
    """Base data set picker: options, value, the run the value belongs to, an alert.

    Defaults to the data set the run's model was trained on; a choice the user made for this
    run survives the run picker's periodic refresh (which re-sends the same run id).
    """
    if not run_id:
        return [], None, None, None
    try:
        options = dataset_options(client.list_datasets())
        if current_for == run_id:
            return (
                options,
                current if current in [o["value"] for o in options] else None,
                run_id,
                None,
            )
        run = client.get_run(run_id)
        model = client.get_model(int(run["model_id"]))
    except ApiError as exc:
        return no_update, no_update, no_update, error_alert(exc, "Could not list data sets")
    except (KeyError, TypeError, ValueError):
        return options, None, run_id, None
    trained_on = model.get("dataset_id")
    value = trained_on if trained_on in [o["value"] for o in options] else None
    return options, value, run_id, None


def start_retrain(
    client: ApiClient, run_id: str | None, base_dataset_id: int | None
) -> tuple[Any, Any]:
    """Build a data set from the run's candidates and start retraining the run's model on it.

    Returns (job, alert): the job (this tab's dcc.Store) remembers the "before" figures, so the
    comparison does not depend on what the original run shows later.
    """
    if not run_id:
        return no_update, error_alert("Choose a run first", "Cannot retrain")
    try:
        run = client.get_run(run_id)
        model_id = int(run["model_id"])
        model = client.get_model(model_id)
        if model.get("status") in ACTIVE_STATUSES:
            return no_update, error_alert(
                f"model #{model_id} is {model.get('status')}; wait until it is ready",
                "Cannot retrain",
            )
        flagged, share = flagged_share(run)
        dataset = client.dataset_from_retrain(
            run_id=run_id, base_dataset_id=base_dataset_id, name=f"retrain-{run_id}"
        )
        client.retrain_model(model_id, {"dataset_id": int(dataset["id"])})
    except ApiError as exc:
        if exc.code == "no_candidates":
            return no_update, error_alert(
                "the flagger has not flagged any record of this run (yet)", "Nothing to retrain on"
            )
        return no_update, error_alert(exc, "Could not start retraining")
    job = {
        "job_id": uuid.uuid4().hex,  # one re-test per job (see _retest_once)
        "stage": "training",
        "run_id": run_id,
        "model_id": model_id,
        "version_before": int(model.get("version") or 0),
        "test_dataset_id": int(run["dataset_id"]),
        "flip_fraction": float(run.get("flip_fraction") or 0.0),
        "seed": run.get("seed"),
        "train_dataset_id": int(dataset["id"]),
        "train_rows": dataset.get("rows"),
        "base_dataset_id": base_dataset_id,
        "before": {"accuracy": run.get("accuracy"), "flagged": flagged, "share": share},
    }
    return job, None


# Polling ticks that arrive while a slow re-test is still running carry the job as it was
# before it: without this, each of them would start another batch test of the same job.
_RETESTS: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
_RETESTS_LOCK = threading.Lock()


def _retest_once(client: ApiClient, job: Mapping[str, Any]) -> dict[str, Any]:
    """Re-test the retrained model exactly once per job (the run of the first tick)."""
    key = (job.get("job_id"), job["run_id"], job["model_id"], job["version_before"])
    with _RETESTS_LOCK:
        if key not in _RETESTS:
            _RETESTS[key] = client.run_test(
                int(job["model_id"]),
                int(job["test_dataset_id"]),
                flip_fraction=float(job.get("flip_fraction") or 0.0),
                seed=job.get("seed"),
            )
            while len(_RETESTS) > 100:
                _RETESTS.popitem(last=False)
        return _RETESTS[key]


def advance_retrain(client: ApiClient, job: Mapping[str, Any] | None) -> tuple[Any, Any]:
    """One polling step of the job: (new job or no_update, alert). Training → re-test → counting
    the new run's flagged records → done; a failure ends the job with an alert."""
    if not job or job.get("stage") in ("done", "failed"):
        return no_update, None
    new = dict(job)
    try:
        if job["stage"] == "training":
            model = client.get_model(int(job["model_id"]))
            new["model"] = {
                k: model.get(k) for k in ("status", "version", "progress", "error", "params")
            }
            if model.get("status") == "failed":
                new["stage"] = "failed"
                return new, error_alert(model.get("error") or "unknown error", "Retraining failed")
            if model.get("status") != "ready" or int(model.get("version") or 0) <= int(
                job["version_before"]
            ):
                return new, None
            run = _retest_once(client, job)
            new["stage"] = "counting"
            new["ticks"] = 0
            new["after"] = {"run_id": run["run_id"], "accuracy": run.get("accuracy")}
            return new, None
        run = client.get_run(str(job["after"]["run_id"]))
        flagged, share = flagged_share(run)
    except ApiError as exc:
        new["stage"] = "failed"
        return new, error_alert(exc, "Retraining stopped")
    previous = job["after"].get("flagged")
    new["after"] = dict(job["after"], flagged=flagged, share=share)
    new["ticks"] = int(job.get("ticks") or 0) + 1
    try:
        final = client.schema()["logging_final_states"]
    except ApiError:
        final = []  # the counts still tell when writing is over
    settled = logging_done(run.get("logging"), final) and previous == flagged
    if settled or new["ticks"] >= MAX_COUNT_TICKS:
        new["stage"] = "done"
    return new, None


def _delta(title: str, before: Any, after: Any, *, higher_is_better: bool) -> dbc.Card:
    """A before → after figure with its change, green when better and red when worse."""
    numbers = isinstance(before, int | float) and isinstance(after, int | float)
    change = (after - before) if numbers else None
    colour = "secondary"
    if change:
        colour = "success" if (change > 0) == higher_is_better else "danger"
    sign = "+" if change and change > 0 else ""
    delta = f"{sign}{change * 100:.1f} pp" if change is not None else "—"
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(title, className="kpi-title"),
                html.Div(
                    f"{fmt_pct(before)} → {fmt_pct(after)}", className=f"kpi-value text-{colour}"
                ),
                html.Div(delta, className=f"small fw-bold text-{colour}", **{"data-delta": colour}),
            ]
        ),
        className="kpi-card h-100",
    )


def retrain_view(job: Mapping[str, Any] | None) -> Any:
    """The card's body for the job: progress while training, then the before/after comparison."""
    if not job:
        return html.P(
            "Builds a data set from this run's flagged records (labelled with their Actual class),"
            " retrains the run's model on it and re-tests it on the run's data set.",
            className="text-muted small mb-0",
        )
    head = html.Div(
        f"Run {job['run_id']} · model #{job['model_id']} · data set "
        f"#{job.get('train_dataset_id')} ({job.get('train_rows', '?')} rows)",
        className="small text-muted mb-2",
    )
    model = job.get("model") or {}
    parts: list[Any] = [head]
    if job["stage"] in ("training", "failed") and "after" not in job:
        progress = model.get("progress") or {}
        epochs = int(progress.get("epochs") or 0)
        ready = model.get("status") == "ready" and int(model.get("version") or 0) > int(
            job["version_before"]
        )
        share = 100 if ready else (100 * int(progress.get("epoch") or 0) / epochs if epochs else 0)
        parts += [
            html.Div(
                [
                    html.Span("Retraining ", className="me-2"),
                    status_badge(model.get("status") or "queued"),
                    html.Span(f"epoch {progress_text(model)}", className="text-muted ms-2"),
                ],
                className="mb-2",
            ),
            dbc.Progress(
                value=share,
                striped=job["stage"] == "training",
                animated=job["stage"] == "training",
                color="danger" if job["stage"] == "failed" else "info",
                className="mb-2 iris-progress",
                id="mon-rt-progress",
            ),
        ]
        return parts
    before, after = job.get("before") or {}, job.get("after") or {}
    counting = job["stage"] == "counting"
    parts += [
        dbc.Row(
            [
                dbc.Col(
                    _delta(
                        "Accuracy",
                        before.get("accuracy"),
                        after.get("accuracy"),
                        higher_is_better=True,
                    ),
                    md=6,
                ),
                dbc.Col(
                    _delta(
                        "Flagged share" + (" (counting…)" if counting else ""),
                        before.get("share"),
                        after.get("share"),
                        higher_is_better=False,
                    ),
                    md=6,
                ),
            ],
            className="g-3 mb-2",
            id="mon-rt-compare",
        ),
        html.Div(
            f"Original run {job['run_id']} ({before.get('flagged', '—')} flagged) vs new run "
            f"{after.get('run_id')} ({after.get('flagged', '…')} flagged), model "
            f"v{job['version_before']} → v{model.get('version', '?')}.",
            className="small text-muted mb-2",
        ),
        info_alert(FLIPPED_NOTE)
        if job.get("flip_fraction")
        else html.Div(FLIPPED_NOTE, className="small text-muted"),
    ]
    return parts


def retrain_step(
    client: ApiClient,
    trigger: str | None,
    run_id: str | None,
    base_dataset_id: int | None,
    job: Mapping[str, Any] | None,
) -> tuple[Any, Any, bool, bool, Any]:
    """The card's callback body: (job, view, polling disabled, button disabled, alert)."""
    alert = None
    if trigger == "mon-rt-go":
        started, alert = start_retrain(client, run_id, base_dataset_id)
        if started is not no_update:
            job = started
    elif job:
        advanced, alert = advance_retrain(client, job)
        if advanced is not no_update:
            job = advanced
    active = bool(job) and job.get("stage") in ("training", "counting")
    return job, retrain_view(job), not active, active, alert
