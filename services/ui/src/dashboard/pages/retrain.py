"""Retrain page: from a run's flagged records to a promoted version, without leaving the page.

Triaged candidates (cause, label quality, suggestion, why) in a grid with filters; select and
decide (relabel / keep / exclude) or accept every label-error suggestion; launch a retraining
job and watch it; compare two versions side by side on a data set neither trained on; promote
or roll back; each version's lineage one click away. All state is server-side (model_api).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from dashboard.api import ApiError, get_client
from dashboard.components.layout import page_header
from dashboard.components.pickers import dataset_options
from dashboard.views import retrain_layout as lay
from dashboard.views import retrain_versions as vv
from dashboard.views import retrain_view as rv

dash.register_page(
    __name__, path="/retrain", name="Retrain", title="Retrain · Iris monitor", order=6
)


def layout(run_id: str | None = None, **_: Any) -> html.Div:
    return html.Div(
        [
            page_header(
                "Retrain",
                "Flagged records → triage → review → a new version → a fair "
                "comparison → promotion.",
            ),
            dcc.Store(id="rt-url-run", data=run_id),
            lay.candidates_card(),
            lay.retrain_card(),
            lay.versions_card(),
        ]
    )


@callback(
    Output("rt-run", "options"),
    Output("rt-run", "value"),
    Output("rt-base", "options"),
    Output("rt-cmp-ds", "options"),
    Input("rt-url-run", "data"),
    State("sel-run", "data"),
)
def init(url_run, remembered):
    client = get_client()
    try:
        options = rv.run_options(client)
        datasets = dataset_options(client.list_datasets())
    except ApiError:
        return [], None, [], []
    values = [o["value"] for o in options]
    chosen = next((r for r in (url_run, remembered) if r in values), values[0] if values else None)
    return options, chosen, datasets, datasets


@callback(
    Output("rt-model", "data"),
    Output("rt-class", "options"),
    Output("rt-label", "options"),
    Output("sel-run", "data", allow_duplicate=True),
    Output("rt-job", "data", allow_duplicate=True),
    Output("rt-poll", "disabled", allow_duplicate=True),
    Input("rt-run", "value"),
    prevent_initial_call=True,
)
def pick_run(run_id):
    """The run's model, its classes, and a retraining of it still running (from another tab,
    or before a restart) to follow."""
    if not run_id:
        raise PreventUpdate
    client = get_client()
    try:
        run = client.get_run(run_id)
        active = rv.active_job(client, run["model_id"])
    except ApiError:
        return None, [], [], no_update, no_update, no_update
    labels = [{"label": c, "value": c} for c in run.get("labels", [])]
    return run["model_id"], labels, labels, run_id, active, active is None


@callback(
    Output("rt-grid", "rowData"),
    Output("rt-summary", "children"),
    Output("rt-review-alert", "children", allow_duplicate=True),
    Input("rt-run", "value"),
    Input("rt-cause", "value"),
    Input("rt-reviewed", "value"),
    Input("rt-class", "value"),
    Input("rt-changed", "data"),
    prevent_initial_call="initial_duplicate",
)
def show_candidates(run_id, cause, reviewed, actual, _changed):
    rows, summary, alert = rv.candidates(get_client(), run_id, cause, reviewed, actual)
    return rows, summary, alert if alert is not None else no_update


@callback(
    Output("rt-review-alert", "children"),
    Output("rt-changed", "data"),
    Output("rt-grid", "selectedRows"),
    Input("rt-accept", "n_clicks"),
    Input("rt-relabel", "n_clicks"),
    Input("rt-keep", "n_clicks"),
    Input("rt-exclude", "n_clicks"),
    State("rt-run", "value"),
    State("rt-grid", "selectedRows"),
    State("rt-label", "value"),
    State("rt-reviewer", "value"),
    State("rt-changed", "data"),
    prevent_initial_call=True,
)
def decide(_a, _r, _k, _e, run_id, selected, label, reviewer, changed):
    action = str(ctx.triggered_id).removeprefix("rt-")
    alert = rv.decide(get_client(), action, run_id, selected, label, reviewer)
    return alert, (changed or 0) + 1, []


@callback(
    Output("rt-job", "data"),
    Output("rt-job-view", "children"),
    Output("rt-poll", "disabled"),
    Output("rt-train", "disabled"),
    Output("rt-train-alert", "children"),
    Output("rt-versions-changed", "data"),
    Input("rt-train", "n_clicks"),
    Input("rt-poll", "n_intervals"),
    State("rt-run", "value"),
    State("rt-model", "data"),
    State("rt-base", "value"),
    State("rt-weight", "value"),
    State("rt-epochs", "value"),
    State("rt-job", "data"),
    State("rt-versions-changed", "data"),
    prevent_initial_call=True,
)
def retrain(_clicks, _n, run_id, model_id, base, weight, epochs, job, changed):
    client = get_client()
    if ctx.triggered_id == "rt-train":
        job, alert = rv.start_job(client, run_id, model_id, base, weight, epochs)
        if job is None:
            return no_update, no_update, True, False, alert, no_update
        return job, rv.job_view(job), False, True, None, no_update
    job, finished = rv.poll_job(client, job)
    bump = (changed or 0) + 1 if finished and job else no_update
    return job, rv.job_view(job), finished, not finished, no_update, bump


@callback(
    Output("rt-versions", "rowData"),
    Output("rt-va", "options"),
    Output("rt-va", "value"),
    Output("rt-vb", "options"),
    Output("rt-vb", "value"),
    Output("rt-pv", "options"),
    Output("rt-pv", "value"),
    Output("rt-promoted", "children"),
    Output("rt-versions-alert", "children"),
    Input("rt-model", "data"),
    Input("rt-versions-changed", "data"),
)
def show_versions(model_id, _changed):
    rows, options, promoted, alert = vv.versions(get_client(), model_id)
    numbers = [o["value"] for o in options]
    a = promoted if promoted in numbers else (numbers[0] if numbers else None)
    b = max(numbers) if numbers else None
    text = f"Promoted: version {promoted}" if promoted else ""
    latest = max(numbers) if numbers else None
    return (
        rows,
        options,
        a,
        options,
        b,
        options,
        latest,
        html.Span(text, id="rt-promoted-text"),
        alert,
    )


@callback(
    Output("rt-lineage", "children"),
    Input("rt-versions", "selectedRows"),
    State("rt-model", "data"),
)
def show_lineage(selected, model_id):
    return vv.lineage_view(get_client(), model_id, selected)


@callback(
    Output("rt-comparison", "children"),
    Input("rt-compare", "n_clicks"),
    State("rt-model", "data"),
    State("rt-va", "value"),
    State("rt-vb", "value"),
    State("rt-cmp-ds", "value"),
    State("rt-exclude-trained", "value"),
    prevent_initial_call=True,
)
def compare(_clicks, model_id, a, b, dataset_id, exclude):
    view, alert = vv.compare(get_client(), model_id, a, b, dataset_id, exclude)
    return alert if view is None else view


@callback(
    Output("rt-versions-alert", "children", allow_duplicate=True),
    Output("rt-versions-changed", "data", allow_duplicate=True),
    Input("rt-promote", "n_clicks"),
    State("rt-model", "data"),
    State("rt-pv", "value"),
    State("rt-force", "value"),
    State("rt-reviewer", "value"),
    State("rt-versions-changed", "data"),
    prevent_initial_call=True,
)
def promote(_clicks, model_id, version, force, reviewer, changed):
    alert = vv.promote(get_client(), model_id, version, force, reviewer)
    return alert, (changed or 0) + 1
